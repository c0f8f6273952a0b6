// The "For me" link's badge (templates/rooms/room.html [data-inbox-count]). Server contract:
// GET /api/v1/inbox/count → {"unread": n}. Asked at load and again, gathered, whenever the
// unread counts change (a new message, a read position moved in any of the reader's tabs).

import { reachable } from "./unread.js";

const GATHER_MS = 300;

export class InboxBadge {
  constructor({ api, strings }) {
    Object.assign(this, { api, strings });
    this.timer = null;
    this.badges = document.querySelectorAll("[data-inbox-count]");
  }

  attach() {
    if (this.badges.length) this.refresh();
  }

  refreshSoon() {
    if (!this.badges.length) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.refresh(), GATHER_MS);
  }

  async refresh() {
    if (!reachable()) return; // asked again when the connection is back
    try {
      const { unread } = await this.api.get("/inbox/count");
      this.paint(unread);
    } catch {
      // shown again on the next change
    }
  }

  paint(count) {
    for (const badge of this.badges) {
      badge.hidden = !count;
      badge.textContent = count ? String(count > 99 ? "99+" : count) : "";
      badge.title = this.strings.inbox_unread.replace("%(count)s", count);
    }
  }
}
