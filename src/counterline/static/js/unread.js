// Unread counts kept by the server (rooms/*: read positions). Server contract: the sidebar's
// badges [data-unread=<room id>] carry the count at page load in data-unread-count (GET
// /api/v1/rooms items: unread, last_read_id); boot.room has the open room's unread and
// last_read_id; POST /api/v1/rooms/{id}/read {"up_to": id} → {"room_id", "last_read_id",
// "unread"}; POST /api/v1/rooms/read marks them all (messages/reading_routes.py); the live event "room.read" (same fields) reaches every tab of the reader, and
// "message.posted" announces new messages in all her rooms.
//
// A message counts as seen when its row is in the viewport while the tab is visible
// (IntersectionObserver, document.visibilityState); the newest seen id is sent, debounced
// (and in a room that never pauses, at least every MAX_WAIT_MS).
// Badges show the counts ([data-unread-total] their sum) and the tab title starts with it.
// Opening a room with unread messages shows a divider above the first one. Nothing is asked
// while the tab is offline or logged out (see reachable()).

const CAP = 100;
const DEBOUNCE_MS = 400;
const MAX_WAIT_MS = 2000;

/** Whether asking the server now makes sense: not offline, not between sockets, not logged out
 * (read marks wait for the connection to come back; refresh() sends them). */
export function reachable() {
  const state = document.body.dataset.connection;
  return navigator.onLine !== false && state !== "reconnecting" && state !== "ended";
}

export class UnreadBadges {
  constructor({ api, csrfToken, me, room, list, strings, onChange }) {
    Object.assign(this, { api, csrfToken, me, list, strings, onChange });
    this.roomId = room.id;
    this.lastReadId = room.last_read_id || 0;
    this.sentUpTo = this.lastReadId;
    this.seenUpTo = this.lastReadId;
    this.counts = new Map();
    this.baseTitle = document.title;
    this.visibleRows = new Set();
    this.timer = null;
    this.waitingSince = 0;
    for (const badge of document.querySelectorAll("[data-unread]")) {
      this.counts.set(Number(badge.dataset.unread), Number(badge.dataset.unreadCount) || 0);
    }
    if (typeof room.unread === "number") this.counts.set(this.roomId, room.unread);
    this.firstUnread = room.unread ? this.lastReadId : null;
  }

  attach() {
    this.observer = new IntersectionObserver((entries) => this.intersected(entries), {
      root: this.list.closest(".timeline"),
      threshold: 0.6,
    });
    for (const row of this.list.querySelectorAll(".message[data-message-id]")) this.observer.observe(row);
    new MutationObserver((changes) => {
      for (const change of changes) {
        for (const node of change.addedNodes) {
          if (node.nodeType === 1 && node.classList.contains("message")) this.observer.observe(node);
        }
        for (const node of change.removedNodes) this.visibleRows.delete(node);
      }
    }).observe(this.list, { childList: true });
    document.addEventListener("visibilitychange", () => this.seeVisible());
    window.addEventListener("pagehide", () => this.flush(true));
    this.showDivider();
    this.render({ quiet: true });
  }

  /** The divider above the first message after the read position. */
  showDivider() {
    if (this.firstUnread === null) return;
    const row = [...this.list.querySelectorAll(".message[data-message-id]")]
      .find((item) => Number(item.dataset.messageId) > this.firstUnread && !item.classList.contains("mine"));
    if (!row) return;
    // The room still opens at its newest messages (history.js); the divider shows where the
    // new ones start for whoever scrolls up.
    row.classList.add("first-unread");
    row.dataset.unreadLabel = this.strings.unread_divider;
  }

  intersected(entries) {
    for (const entry of entries) {
      if (entry.isIntersecting) this.visibleRows.add(entry.target);
      else this.visibleRows.delete(entry.target);
    }
    this.seeVisible();
  }

  /** Note the newest message on screen as read, if the reader can see the tab. */
  seeVisible() {
    if (document.visibilityState !== "visible") return;
    let newest = 0;
    for (const row of this.visibleRows) {
      if (!row.isConnected || row.classList.contains("pending")) continue;
      newest = Math.max(newest, Number(row.dataset.messageId) || 0);
    }
    if (newest > this.seenUpTo) {
      this.seenUpTo = newest;
      this.schedule();
    }
  }

  schedule() {
    // The first mark after opening goes at once; later ones are gathered.
    if (this.sentUpTo === this.lastReadId && this.timer === null && !this.sentOnce) {
      this.sentOnce = true;
      this.flush();
      return;
    }
    if (this.timer === null) this.waitingSince = Date.now();
    clearTimeout(this.timer);
    const left = this.waitingSince + MAX_WAIT_MS - Date.now();
    this.timer = setTimeout(() => this.flush(), Math.max(0, Math.min(DEBOUNCE_MS, left)));
  }

  async flush(leaving = false) {
    clearTimeout(this.timer);
    this.timer = null;
    const upTo = this.seenUpTo;
    if (upTo <= this.sentUpTo || !reachable()) return;
    this.sentUpTo = upTo;
    const path = `/rooms/${this.roomId}/read`;
    if (leaving) {
      // The page is going away: a keepalive request outlives it.
      fetch(`/api/v1${path}`, {
        method: "POST",
        keepalive: true,
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": this.csrfToken },
        body: JSON.stringify({ up_to: upTo }),
      }).catch(() => {});
      return;
    }
    try {
      this.applyRead(await this.api.post(path, { up_to: upTo }));
    } catch {
      this.sentUpTo = Math.min(this.sentUpTo, this.lastReadId); // tried again on the next sight
    }
  }

  /** A read position moved (this tab's answer, or "room.read" from any tab of hers). */
  applyRead({ room_id: roomId, last_read_id: lastReadId, unread }) {
    this.counts.set(roomId, unread);
    if (roomId === this.roomId && lastReadId > this.lastReadId) {
      this.lastReadId = lastReadId;
      this.seenUpTo = Math.max(this.seenUpTo, lastReadId);
      this.sentUpTo = Math.max(this.sentUpTo, lastReadId);
    }
    this.render();
  }

  /** A message arrived live (or in catch-up). */
  noteMessage(message) {
    if (message.author.id === this.me.id) {
      if (message.room_id === this.roomId) {
        this.seenUpTo = Math.max(this.seenUpTo, message.id);
        this.sentUpTo = Math.max(this.sentUpTo, message.id);
      }
      return;
    }
    if (message.room_id === this.roomId && message.id <= this.lastReadId) return;
    this.counts.set(message.room_id, (this.counts.get(message.room_id) || 0) + 1);
    this.render();
    if (message.room_id === this.roomId) requestAnimationFrame(() => this.seeVisible());
  }

  /** After a reconnect: the server's counts replace ours. */
  async refresh() {
    this.flush();
    try {
      const answer = await this.api.get("/rooms");
      for (const room of answer.rooms || answer.items || []) {
        if (typeof room.unread === "number") this.counts.set(room.id, room.unread);
      }
      this.render();
    } catch {
      // the next reconnect tries again
    }
  }

  /** Mark every room read (the server's mark-all endpoint), then show zero everywhere. */
  async markAll(path) {
    await this.api.post(path, {});
    for (const id of this.counts.keys()) this.counts.set(id, 0);
    this.render();
  }

  /** The first page of a session with unread messages says so, with a way to the inbox. */
  showAwayNotice(notice) {
    if (!notice || !this.total) return;
    const key = "counterline.away";
    let session = 0;
    for (const char of this.csrfToken) session = (session * 31 + char.charCodeAt(0)) >>> 0;
    try {
      if (localStorage.getItem(key) === String(session)) return;
      localStorage.setItem(key, String(session));
    } catch {
      return; // without storage it would show on every page
    }
    const text = document.createElement("span");
    text.textContent = this.strings.away_notice.replace("%(count)s", this.label(this.total));
    const link = document.createElement("a");
    link.href = "/inbox";
    link.textContent = this.strings.away_open_inbox;
    const close = document.createElement("button");
    close.type = "button";
    close.className = "quiet";
    close.textContent = this.strings.dismiss;
    close.addEventListener("click", () => { notice.hidden = true; });
    notice.replaceChildren(text, link, close);
    notice.hidden = false;
  }

  /** The "mark all as read" button (POST /api/v1/rooms/read). */
  offerMarkAll(button) {
    if (!button) return;
    button.hidden = false;
    button.addEventListener("click", async () => {
      try {
        await this.markAll("/rooms/read");
      } catch (error) {
        button.title = error.message;
      }
    });
  }

  get total() {
    let total = 0;
    for (const count of this.counts.values()) total += count;
    return total;
  }

  label(count) {
    return count >= CAP ? `${CAP - 1}+` : String(count);
  }

  render({ quiet = false } = {}) {
    for (const badge of document.querySelectorAll("[data-unread]")) {
      this.paint(badge, this.counts.get(Number(badge.dataset.unread)) || 0);
    }
    const total = this.total;
    for (const badge of document.querySelectorAll("[data-unread-total]")) this.paint(badge, total);
    document.title = total ? `(${this.label(total)}) ${this.baseTitle}` : this.baseTitle;
    if (!quiet) this.onChange?.(total);
  }

  paint(badge, count) {
    badge.hidden = count === 0;
    badge.title = this.strings.unread.replace("%(count)s", this.label(count));
    if (!count) {
      badge.replaceChildren();
      return;
    }
    const shown = document.createElement("span");
    shown.setAttribute("aria-hidden", "true");
    shown.textContent = this.label(count);
    const spoken = document.createElement("span");
    spoken.className = "visually-hidden";
    spoken.textContent = badge.title;
    badge.replaceChildren(shown, spoken);
  }
}
