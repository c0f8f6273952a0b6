// Server contract: messages as returned by GET /api/v1/rooms/{id}/messages and in
// "message.posted" events: {id, room_id, client_id, author, branch, body_html,
// created_at, client_ip?}. The list element is #messages, rows from #message-template;
// each row's id is "m-<client_id>", so the broadcast copy replaces the sender's local one.

export class MessageList {
  constructor({ list, template, roomId, timeZone, language, strings, api }) {
    this.list = list;
    this.template = template;
    this.roomId = roomId;
    this.api = api;
    this.strings = strings;
    this.seen = new Set();
    this.oldestId = null;
    this.newestId = null;
    this.atLiveEdge = true;
    this.formatter = new Intl.DateTimeFormat(language === "en" ? "en-GB" : "zh-CN", {
      timeZone, year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false,
    });
  }

  clear() {
    this.list.replaceChildren();
    this.seen.clear();
    this.oldestId = null;
    this.newestId = null;
  }

  row(message) {
    const row = this.template.content.firstElementChild.cloneNode(true);
    this.fill(row, message);
    return row;
  }

  fill(row, message) {
    row.id = `m-${message.client_id}`;
    row.dataset.messageId = message.id ?? "";
    row.querySelector(".author").textContent = message.author.display_name;
    row.querySelector(".branch").textContent = message.branch.name;
    const time = row.querySelector(".time");
    if (message.created_at) {
      time.dateTime = message.created_at;
      time.textContent = this.formatter.format(new Date(message.created_at));
    }
    const ip = row.querySelector(".ip");
    if (message.client_ip) {
      ip.hidden = false;
      ip.textContent = `${this.strings.ip} ${message.client_ip}`;
    }
    const body = row.querySelector(".body");
    if (message.body_html !== undefined) {
      body.innerHTML = message.body_html; // sanitised on the server (nh3)
    } else {
      body.textContent = message.body;
    }
    const state = row.querySelector(".state");
    state.hidden = !message.pending;
    row.classList.toggle("pending", Boolean(message.pending));
    row.classList.toggle("failed", Boolean(message.failed));
    state.textContent = message.failed ? this.strings.send_failed : this.strings.sending;
  }

  /** Add a stored message once; replaces a pending local copy with the same client id. */
  add(message, { atTop = false } = {}) {
    if (this.seen.has(message.id)) return false;
    this.seen.add(message.id);
    if (this.oldestId === null || message.id < this.oldestId) this.oldestId = message.id;
    if (this.newestId === null || message.id > this.newestId) this.newestId = message.id;
    const local = document.getElementById(`m-${message.client_id}`);
    if (local) {
      this.fill(local, message);
      return true;
    }
    const row = this.row(message);
    if (atTop) {
      this.list.prepend(row);
    } else {
      this.list.append(row);
    }
    return true;
  }

  addPending(message) {
    const existing = document.getElementById(`m-${message.client_id}`);
    if (existing) {
      this.fill(existing, message);
      return;
    }
    this.list.append(this.row(message));
    this.scrollToEnd();
  }

  showPage(messages, { prepend = false } = {}) {
    const before = this.list.scrollHeight;
    const ordered = prepend ? [...messages].reverse() : messages;
    for (const message of ordered) this.add(message, { atTop: prepend });
    if (prepend) this.list.scrollTop += this.list.scrollHeight - before;
  }

  nearBottom() {
    return this.list.scrollHeight - this.list.scrollTop - this.list.clientHeight < 80;
  }

  scrollToEnd() {
    this.list.scrollTop = this.list.scrollHeight;
  }

  async loadOlder() {
    if (this.oldestId === null) return { messages: [], has_more: false };
    const page = await this.api.get(`/rooms/${this.roomId}/messages?before=${this.oldestId}`);
    this.showPage(page.messages, { prepend: true });
    return page;
  }

  async loadNewer() {
    const page = await this.api.get(`/rooms/${this.roomId}/messages?after=${this.newestId ?? 0}`);
    this.showPage(page.messages);
    return page;
  }

  async jumpToDay(day) {
    const page = await this.api.get(`/rooms/${this.roomId}/messages?day=${day}`);
    this.clear();
    this.showPage(page.messages);
    this.list.scrollTop = 0;
    return page;
  }

  async showLatest() {
    const page = await this.api.get(`/rooms/${this.roomId}/messages`);
    this.clear();
    this.showPage(page.messages);
    this.scrollToEnd();
    return page;
  }
}
