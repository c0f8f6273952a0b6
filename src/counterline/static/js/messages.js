// Server contract: messages as returned by GET /api/v1/rooms/{id}/messages and carried by
// "message.posted" events: {id, room_id, client_id, author{id, display_name}, branch{name},
// body_html (sanitised by the server), created_at, client_ip (managers and admins only)}.
// Renders them into #messages (role=log) from #message-template, ordered by id, each exactly
// once. A row's DOM id is "m-<client_id>", so the stored copy replaces the sender's local
// "sending" copy.

export class MessageList {
  constructor({ list, scroller, template, me, timeZone, language, strings }) {
    Object.assign(this, { list, scroller, template, me, strings });
    this.seen = new Set();
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
    return this.seen.size;
  }

  clear() {
    for (const row of [...this.list.children]) {
      if (!row.classList.contains("pending")) row.remove();
    }
    this.seen.clear();
  }

  fill(row, message) {
    row.id = `m-${message.client_id}`;
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
    let row = document.getElementById(`m-${message.client_id}`);
    if (row && !row.classList.contains("pending")) return;
    if (!row) {
      row = this.template.content.firstElementChild.cloneNode(true);
      this.list.append(row);
    }
    this.fill(row, { ...message, pending: true });
  }

  dropPending(clientId) {
    const row = document.getElementById(`m-${clientId}`);
    if (row && row.classList.contains("pending")) row.remove();
  }

  /** Add a stored message once, in id order; returns whether it was new here. */
  add(message) {
    if (this.seen.has(message.id)) return false;
    this.seen.add(message.id);
    let row = document.getElementById(`m-${message.client_id}`);
    if (row) {
      row.remove();
    } else {
      row = this.template.content.firstElementChild.cloneNode(true);
    }
    this.fill(row, message);
    this.list.insertBefore(row, this.rowAfter(message.id));
    return true;
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
