// Server contract: GET /api/v1/rooms/{id}/messages?after=ID&limit=100 and live
// "message.posted" events. Counts unread messages per room for the sidebar badges
// ([data-unread=<room id>], [data-unread-total]) and the tab title. What this user has read is
// remembered per browser in localStorage ("counterline.read.<user id>": {room id: message id}).

const CAP = 100;

export class UnreadBadges {
  constructor({ api, me, roomId, lastMessageId, strings }) {
    Object.assign(this, { api, me, roomId, strings });
    this.key = `counterline.read.${me.id}`;
    this.counts = new Map();
    this.unseenHere = 0;
    this.baseTitle = document.title;
    this.read = this.load();
    for (const badge of document.querySelectorAll("[data-unread]")) {
      const id = badge.dataset.unread;
      if (!(id in this.read)) this.read[id] = lastMessageId;
    }
    this.save();
  }

  load() {
    try {
      return JSON.parse(localStorage.getItem(this.key)) || {};
    } catch {
      return {};
    }
  }

  save() {
    try {
      localStorage.setItem(this.key, JSON.stringify(this.read));
    } catch {
      // Private mode or full storage: badges then only count live messages.
    }
  }

  /** Count what arrived in the other rooms since this browser last showed them. */
  async fetchCounts() {
    const rooms = [...document.querySelectorAll("[data-unread]")]
      .map((badge) => Number(badge.dataset.unread)).filter((id) => id !== this.roomId);
    await Promise.all(rooms.map(async (id) => {
      try {
        const page = await this.api.get(`/rooms/${id}/messages?after=${this.read[id] ?? 0}&limit=${CAP}`);
        const theirs = page.messages.filter((message) => message.author.id !== this.me.id);
        this.counts.set(id, theirs.length + (page.has_more ? CAP : 0));
      } catch {
        this.counts.set(id, 0);
      }
    }));
    this.render();
  }

  /** The reader has seen everything up to this id in the current room. */
  markRead(messageId) {
    if (!(messageId > (this.read[this.roomId] ?? 0))) return;
    this.read[this.roomId] = messageId;
    this.save();
  }

  /** A message arrived live (or in catch-up); `visible` says whether it is on screen now. */
  noteMessage(message, visible) {
    if (message.room_id === this.roomId) {
      if (visible && !document.hidden) this.markRead(message.id);
      else if (message.author.id !== this.me.id) this.unseenHere += 1;
    } else if (message.author.id !== this.me.id) {
      this.counts.set(message.room_id, (this.counts.get(message.room_id) || 0) + 1);
    }
    this.render();
  }

  /** The tab became visible and the reader is at the newest message. */
  caughtUp(newestId) {
    this.unseenHere = 0;
    if (newestId) this.markRead(newestId);
    this.render();
  }

  label(count) {
    return count >= CAP ? `${CAP - 1}+` : String(count);
  }

  render() {
    let total = 0;
    for (const badge of document.querySelectorAll("[data-unread]")) {
      const count = this.counts.get(Number(badge.dataset.unread)) || 0;
      total += count;
      this.paint(badge, count);
    }
    for (const badge of document.querySelectorAll("[data-unread-total]")) this.paint(badge, total);
    document.title = this.unseenHere ? `(${this.label(this.unseenHere)}) ${this.baseTitle}` : this.baseTitle;
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
