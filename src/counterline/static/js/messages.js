// Server contract: messages as returned by GET /api/v1/rooms/{id}/messages and carried by
// "message.posted" events: {id, room_id, author{id, display_name}, branch{name}, body,
// html (sanitised by the server; body_html is the same, for older clients), attachments,
// created_at, edited_at (null or a time), deleted_at (only in the tombstones managers and
// administrators get), client_ip (managers and admins only)}. "message.edited" events carry
// the whole updated message (update), "message.deleted" ones its id (remove) or, for staff,
// the tombstone (update). client_id is only in the POST answer and in the author's own
// history, never in events.
// Renders them into #messages (role=log) from #message-template, ordered by id, each exactly
// once. Stored rows are keyed by the server's id only (a Map, and data-message-id); this tab's
// "sending" copies by their client id in a Map of their own, never in the DOM, so nothing
// another member posts can hit them. The POST answer (settle) turns the copy into the stored
// row. The event for the same message may come first and carries no client id: an event of
// mine whose text equals a "sending" copy's is held until that copy's POST answers or is
// refused, then shown by id (already there if it was that copy's: shown once, no flicker).
// Codes, folding and attachments: message_content.js; the actions menu: message_actions.js.

import {
  Lightbox, enhanceBody, makeFoldToggle, measureFolds, renderAttachments,
} from "./message_content.js";

export class MessageList {
  constructor({
    list, scroller, template, me, timeZone, language, strings, onReleased,
    announce = () => {}, actions = null, bodyEnhancers = [],
  }) {
    // bodyEnhancers: more functions (body element, message) run on each rendered body.
    Object.assign(this, {
      list, scroller, template, me, language, strings, onReleased, announce, actions,
      bodyEnhancers,
    });
    this.rows = new Map();
    this.shown = new Map(); // id -> the message as last shown
    this.lightbox = new Lightbox(strings);
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
    this.shown.clear();
  }

  /** The message a stored row shows. */
  message(id) {
    return this.shown.get(Number(id));
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
    this.fillContent(row, message);
    this.fillMarks(row, message);
    const state = row.querySelector(".state");
    state.hidden = !message.pending;
    state.textContent = message.failed ? this.strings.send_failed : this.strings.sending;
    row.classList.toggle("pending", Boolean(message.pending));
    row.classList.toggle("failed", Boolean(message.failed));
    if (message.id !== undefined) {
      row.dataset.messageId = String(message.id);
      row.querySelector(".body").id = `message-body-${message.id}`;
      this.shown.set(message.id, message);
      this.actions?.decorate(row, message);
    }
  }

  /** The body (rendered HTML, or the plain text of a "sending" copy), its "show more" button
   * and its attachments. */
  fillContent(row, message) {
    const body = row.querySelector(".body");
    const html = message.html ?? message.body_html;
    if (html !== undefined && html !== null) {
      body.innerHTML = html; // sanitised on the server (nh3)
      enhanceBody(body, { strings: this.strings, language: this.language, announce: this.announce });
      for (const enhance of this.bodyEnhancers) enhance(body, message);
    } else {
      body.textContent = message.body;
    }
    body.classList.toggle("empty", !body.textContent.trim() && !body.querySelector("img"));
    if (!row.querySelector(".fold-toggle")) body.after(makeFoldToggle(row, body, this.strings));
    row.querySelector(".attachments")?.remove();
    const attachments = renderAttachments(message.attachments, {
      strings: this.strings, language: this.language, lightbox: this.lightbox,
    });
    if (attachments) row.querySelector(".fold-toggle").after(attachments);
  }

  /** The "edited" mark, and the tombstone look of a deleted message (staff only get those). */
  fillMarks(row, message) {
    const meta = row.querySelector(".meta");
    let edited = meta.querySelector(".edited-mark");
    if (message.edited_at && !message.deleted_at) {
      if (!edited) {
        edited = document.createElement("span");
        edited.className = "edited-mark";
        meta.querySelector(".state").before(edited);
      }
      const at = this.fullFormat.format(new Date(message.edited_at));
      edited.textContent = this.strings.edited;
      edited.title = this.strings.edited_at.replace("%(time)s", at);
    } else {
      edited?.remove();
    }
    let deleted = meta.querySelector(".deleted-mark");
    row.classList.toggle("deleted", Boolean(message.deleted_at));
    if (message.deleted_at) {
      if (!deleted) {
        deleted = document.createElement("span");
        deleted.className = "deleted-mark";
        meta.querySelector(".state").before(deleted);
      }
      const at = this.fullFormat.format(new Date(message.deleted_at));
      deleted.textContent = this.strings.deleted_at.replace("%(time)s", at);
    } else {
      deleted?.remove();
    }
  }

  /** Fold the tall ones among these rows (after they are in the document). */
  measure(rows) {
    measureFolds(rows, this.strings);
  }

  /** An edited message, or a tombstone: shown in place if it is here; returns whether. */
  update(message) {
    const row = this.rows.get(message.id);
    if (!row) return false;
    const follow = this.nearBottom();
    this.fill(row, message);
    this.measure([row]);
    if (follow) this.scrollToEnd();
    return true;
  }

  /** A deleted message leaves the timeline. */
  remove(id) {
    const row = this.rows.get(id);
    if (!row) return false;
    const hadFocus = row.contains(document.activeElement);
    row.remove();
    this.rows.delete(id);
    this.shown.delete(id);
    this.markDays();
    if (hadFocus) this.list.focus();
    return true;
  }

  /** The ids of the stored rows shown now. */
  shownIds() {
    return new Set(this.shown.keys());
  }

  /** After a reconnect: a fresh page of the newest messages, asked for when the rows `before`
   * were shown (all of the room's if `complete`: it had no more). Those rows that were edited
   * or deleted meanwhile are brought up to date: one the page should hold but lacks was
   * deleted. Returns how many rows changed. */
  refresh(messages, { before, complete }) {
    let changed = 0;
    const fresh = new Map(messages.map((message) => [message.id, message]));
    const first = complete ? -Infinity : (messages[0]?.id ?? Infinity);
    for (const id of before) {
      const shown = this.shown.get(id);
      if (!shown || id < first) continue;
      const message = fresh.get(id);
      if (!message) {
        if (this.remove(id)) changed += 1;
      } else if (
        message.edited_at !== shown.edited_at
        || (message.deleted_at ?? null) !== (shown.deleted_at ?? null)
        || (message.html ?? message.body_html) !== (shown.html ?? shown.body_html)
      ) {
        if (this.update(message)) changed += 1;
      }
    }
    return changed;
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
    if (added) {
      this.place(entry ? entry.row : this.newRow(), stored);
      this.measure([this.rows.get(stored.id)]);
    } else {
      entry?.row.remove();
    }
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
    const rows = [];
    for (const message of messages) if (this.add(message)) rows.push(this.rows.get(message.id));
    const added = rows.length;
    this.measure(rows);
    this.markDays();
    if (keepPosition) this.scroller.scrollTop = this.scroller.scrollHeight - before;
    setTimeout(() => this.list.setAttribute("aria-live", "polite"), 0);
    return added;
  }

  addLive(message) {
    const follow = this.nearBottom();
    const added = this.add(message);
    if (added) this.measure([this.rows.get(message.id)]);
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
