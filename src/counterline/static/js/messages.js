// Server contract: messages as returned by GET /api/v1/rooms/{id}/messages and carried by
// "message.posted" events: {id, room_id, author{id, display_name}, branch{name}, body,
// body_html (sanitised by the server), created_at, client_ip (managers and admins only)}.
// client_id is only in the POST answer and in the author's own history, never in events.
// Renders them into #messages (role=log) from #message-template, ordered by id, each exactly
// once. Stored rows are keyed by the server's id only (a Map, and data-message-id); this tab's
// "sending" copies by their client id in a Map of their own, never in the DOM, so nothing
// another member posts can hit them. The POST answer (settle) turns the copy into the stored
// row. The event for the same message may come first and carries no client id: an event of
// mine whose text equals a "sending" copy's is held until that copy's POST answers or is
// refused, then shown by id (already there if it was that copy's: shown once, no flicker).

export class MessageList {
  constructor({ list, scroller, template, me, timeZone, language, strings, onReleased }) {
    Object.assign(this, { list, scroller, template, me, strings, onReleased });
    this.rows = new Map();
    this.pending = new Map();
    this.held = [];
    const locale = language === "en" ? "en-GB" : "zh-CN";
    this.timeFormat = new Intl.DateTimeFormat(locale, {
      timeZone, hour: "2-digit", minute: "2-digit", hourCycle: "h23",
    });
    this.fullFormat = new Intl.DateTimeFormat(locale, {
      timeZone, year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23",
    });
    this.dayKey = new Intl.DateTimeFormat("en-CA", { timeZone, year: "numeric", month: "2-digit", day: "2-digit" });
    this.dayFormat = new Intl.DateTimeFormat(locale, {
      timeZone, year: "numeric", month: "long", day: "numeric", weekday: "long",
    });
  }

  get oldestId() {
    const row = this.list.querySelector(".message[data-message-id]");
    return row ? Number(row.dataset.messageId) : null;
  }

  get newestId() {
    const rows = this.list.querySelectorAll(".message[data-message-id]");
    return rows.length ? Number(rows[rows.length - 1].dataset.messageId) : null;
  }

  get count() {
    return this.rows.size;
  }

  clear() {
    for (const row of this.rows.values()) row.remove();
    this.rows.clear();
  }

  newRow() {
    return this.template.content.firstElementChild.cloneNode(true);
  }

  fill(row, message) {
    row.classList.toggle("mine", message.author.id === this.me.id);
    row.querySelector(".author").textContent = message.author.display_name;
    row.querySelector(".branch").textContent = message.branch.name;
    const time = row.querySelector(".time");
    if (message.created_at) {
      const at = new Date(message.created_at);
      time.dateTime = message.created_at;
      time.textContent = this.timeFormat.format(at);
      time.title = this.fullFormat.format(at);
      row.dataset.day = this.dayKey.format(at);
      row.dataset.dayLabel = this.dayFormat.format(at);
    }
    const ip = row.querySelector(".ip");
    ip.hidden = !message.client_ip;
    ip.textContent = message.client_ip ? `${this.strings.ip} ${message.client_ip}` : "";
    const body = row.querySelector(".body");
    if (message.body_html !== undefined) {
      body.innerHTML = message.body_html; // sanitised on the server (nh3)
    } else {
      body.textContent = message.body;
    }
    const state = row.querySelector(".state");
    state.hidden = !message.pending;
    state.textContent = message.failed ? this.strings.send_failed : this.strings.sending;
    row.classList.toggle("pending", Boolean(message.pending));
    row.classList.toggle("failed", Boolean(message.failed));
    if (message.id !== undefined) row.dataset.messageId = String(message.id);
  }

  /** Show a local, not yet stored message (or update it, e.g. as failed) at the end. */
  addPending(message) {
    let entry = this.pending.get(message.client_id);
    if (!entry) {
      entry = { row: this.newRow(), body: sameText(message.body) };
      this.pending.set(message.client_id, entry);
      this.list.append(entry.row);
    }
    this.fill(entry.row, { ...message, pending: true });
  }

  /** The server refused a "sending" copy: it goes. */
  dropPending(clientId) {
    this.pending.get(clientId)?.row.remove();
    this.pending.delete(clientId);
    this.release();
  }

  /** The POST answer for a "sending" copy: the copy becomes the stored row, or goes if the
   * stored one is already shown. Returns whether the message was new here. */
  settle(clientId, stored) {
    const follow = this.nearBottom();
    const entry = this.pending.get(clientId);
    this.pending.delete(clientId);
    const added = !this.rows.has(stored.id);
    if (added) this.place(entry ? entry.row : this.newRow(), stored);
    else entry?.row.remove();
    this.markDays();
    if (follow) this.scrollToEnd();
    this.release();
    return added;
  }

  /** Keep a live message of mine that may be the stored form of a "sending" copy here (see
   * the contract above); returns whether it was kept. */
  hold(message) {
    if (message.author.id !== this.me.id || this.rows.has(message.id)) return false;
    const body = sameText(message.body);
    if (![...this.pending.values()].some((entry) => entry.body === body)) return false;
    this.held.push(message);
    return true;
  }

  release() {
    const held = this.held;
    this.held = [];
    for (const message of held) this.onReleased(message);
  }

  /** Add a stored message once, in id order; returns whether it was new here. */
  add(message) {
    if (this.rows.has(message.id)) return false;
    this.place(this.newRow(), message);
    return true;
  }

  place(row, message) {
    row.remove();
    this.fill(row, message);
    this.rows.set(message.id, row);
    this.list.insertBefore(row, this.rowAfter(message.id));
  }

  /** The first stored row with a larger id, else the first pending row, else null (end). */
  rowAfter(id) {
    let next = null;
    for (let row = this.list.lastElementChild; row; row = row.previousElementSibling) {
      if (row.classList.contains("pending")) {
        next = row;
        continue;
      }
      if (Number(row.dataset.messageId) < id) break;
      next = row;
    }
    return next;
  }

  /** Add a page of messages; keeps the reader's place when older ones go on top.
   * A page is not read out by screen readers as if it had just been said. */
  addPage(messages, { keepPosition = false } = {}) {
    const before = this.scroller.scrollHeight - this.scroller.scrollTop;
    this.list.setAttribute("aria-live", "off");
    let added = 0;
    for (const message of messages) if (this.add(message)) added += 1;
    this.markDays();
    if (keepPosition) this.scroller.scrollTop = this.scroller.scrollHeight - before;
    setTimeout(() => this.list.setAttribute("aria-live", "polite"), 0);
    return added;
  }

  addLive(message) {
    const follow = this.nearBottom();
    const added = this.add(message);
    this.markDays();
    if (follow) this.scrollToEnd();
    return added;
  }

  /** Show a date line above the first message of each day. */
  markDays() {
    let previous = null;
    for (const row of this.list.children) {
      const divider = row.querySelector(".day-divider");
      const day = row.dataset.day;
      const starts = Boolean(day) && day !== previous;
      divider.hidden = !starts;
      divider.textContent = starts ? row.dataset.dayLabel : "";
      if (day) previous = day;
    }
  }

  nearBottom() {
    const { scrollHeight, scrollTop, clientHeight } = this.scroller;
    return scrollHeight - scrollTop - clientHeight < 80;
  }

  scrollToEnd() {
    this.scroller.scrollTop = this.scroller.scrollHeight;
  }
}

/** A body as the server stores it (messages/actions.py check_body): line ends, no NULs. */
function sameText(body) {
  return body.replace(/\r\n?/g, "\n").replaceAll("\0", "");
}
