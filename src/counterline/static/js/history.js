// Server contract: GET /api/v1/rooms/{id}/messages?before=ID | ?after=ID | ?day=YYYY-MM-DD
// answers {messages (oldest first, at most 50), has_more}. Drives the history controls of the
// room page: "load older" (also on scrolling to the top), "go to date" and "back to latest",
// and opening at one message (the page's ?at=<message id>, from the inbox).
// While the reader is away from the newest messages, `live` is false and live messages are not
// appended (they are fetched when the reader comes back).

const NEAR_TOP_PX = 60;

export class History {
  constructor({ roomId, api, messages, olderButton, latestButton, jumpForm, announce, strings }) {
    Object.assign(this, { roomId, api, messages, olderButton, latestButton, jumpForm, announce, strings });
    this.live = true;
    this.hasOlder = false;
    this.busy = false;
    // A visible (and announced) notice above the timeline, e.g. "no messages that day".
    this.notice = document.getElementById("history-notice");
  }

  showNotice(text) {
    if (!this.notice) {
      this.announce(text);
      return;
    }
    this.notice.hidden = false;
    this.notice.textContent = "";
    setTimeout(() => { this.notice.textContent = text; }, 50); // announced afresh each time
  }

  hideNotice() {
    if (this.notice) {
      this.notice.hidden = true;
      this.notice.textContent = "";
    }
  }

  attach(firstPage) {
    this.messages.addPage(firstPage.messages);
    this.messages.scrollToEnd();
    this.setHasOlder(firstPage.has_more);
    this.olderButton.addEventListener("click", () => this.loadOlder());
    this.messages.scroller.addEventListener("scroll", () => this.scrolled(), { passive: true });
    this.latestButton.addEventListener("click", () => this.showLatest());
    this.jumpForm.addEventListener("submit", (event) => {
      event.preventDefault();
      const day = this.jumpForm.elements.day.value;
      if (day) this.jumpTo(day);
    });
  }

  path(query) {
    return `/rooms/${this.roomId}/messages${query}`;
  }

  setHasOlder(hasOlder) {
    this.hasOlder = hasOlder;
    this.olderButton.disabled = !hasOlder;
    this.olderButton.textContent = hasOlder ? this.strings.load_older : this.strings.no_older;
  }

  setLive(live) {
    this.live = live;
    this.latestButton.hidden = live;
    this.latestButton.textContent = this.strings.back_to_latest;
  }

  /** Messages arrived while the reader is scrolled up: offer a way down. */
  noteUnseenBelow() {
    if (this.messages.nearBottom()) return;
    this.latestButton.hidden = false;
    this.latestButton.textContent = this.strings.new_messages;
  }

  async guarded(work) {
    if (this.busy) return;
    this.busy = true;
    try {
      await work();
    } catch (error) {
      this.announce(error.message || this.strings.error);
    } finally {
      this.busy = false;
    }
  }

  scrolled() {
    const scroller = this.messages.scroller;
    if (scroller.scrollTop < NEAR_TOP_PX && this.hasOlder) this.loadOlder();
    if (this.messages.nearBottom()) {
      if (!this.live) this.loadNewer();
      else this.latestButton.hidden = true;
    }
  }

  loadOlder() {
    return this.guarded(async () => {
      const oldest = this.messages.oldestId;
      if (oldest === null || !this.hasOlder) return;
      const page = await this.api.get(this.path(`?before=${oldest}`));
      this.messages.addPage(page.messages, { keepPosition: true });
      this.setHasOlder(page.has_more);
      if (!page.has_more) this.announce(this.strings.no_older);
    });
  }

  loadNewer() {
    return this.guarded(async () => {
      const page = await this.api.get(this.path(`?after=${this.messages.newestId ?? 0}`));
      this.messages.addPage(page.messages);
      if (!page.has_more) this.setLive(true);
    });
  }

  jumpTo(day) {
    return this.guarded(async () => {
      const page = await this.api.get(this.path(`?day=${encodeURIComponent(day)}`));
      if (!page.messages.length) {
        this.showNotice(this.strings.no_messages_that_day);
        return;
      }
      this.hideNotice();
      this.messages.clear();
      this.setLive(!page.has_more);
      this.messages.addPage(page.messages);
      this.messages.scroller.scrollTop = 0;
      this.setHasOlder(true);
      this.announce(this.strings.showing_day.replace("%(day)s", day));
    });
  }

  /** Open the room at one message (the inbox's links: /rooms/{id}?at=<message id>): the page
   * from it on, older ones loaded on scrolling up; the message is highlighted. */
  openAt(messageId) {
    return this.guarded(async () => {
      const page = await this.api.get(this.path(`?after=${messageId - 1}`));
      if (!page.messages.length) return;
      this.messages.clear();
      this.setLive(!page.has_more);
      this.messages.addPage(page.messages);
      this.setHasOlder(true);
      const row = this.messages.list.querySelector(`.message[data-message-id="${messageId}"]`);
      if (row) {
        row.classList.add("target");
        this.messages.scroller.scrollTop = Math.max(0, row.offsetTop - 60);
      }
    });
  }

  showLatest() {
    return this.guarded(async () => {
      this.hideNotice();
      if (!this.live) {
        const page = await this.api.get(this.path(""));
        this.messages.clear();
        this.messages.addPage(page.messages);
        this.setHasOlder(page.has_more);
      }
      this.setLive(true);
      this.messages.scrollToEnd();
    });
  }
}
