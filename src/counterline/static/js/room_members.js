// The member list of the room page: a <details> (#room-members) that loads the first 100
// members when opened, finds members by name, and loads more on request.
// Server contract: GET /api/v1/rooms/{id}/members?q=&offset=&limit= answers {total,
// members: [{id, username, display_name, branch, online}], has_more}.

const PAGE = 100;

export class RoomMembers {
  constructor({ roomId, api, strings }) {
    Object.assign(this, { roomId, api, strings });
    this.box = document.getElementById("room-members");
    this.list = document.getElementById("member-list");
    this.search = document.getElementById("member-search");
    this.more = document.getElementById("more-members");
    this.count = this.box?.querySelector("[data-member-count]");
    this.loaded = 0;
    this.query = "";
    this.request = 0;
  }

  attach() {
    if (!this.box) return;
    this.box.addEventListener("toggle", () => {
      if (this.box.open && this.request === 0) this.load(true);
    });
    let timer = null;
    this.search.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        this.query = this.search.value.trim();
        this.load(true);
      }, 250);
    });
    this.more.addEventListener("click", () => this.load(false));
  }

  async load(fresh) {
    const request = ++this.request;
    const offset = fresh ? 0 : this.loaded;
    const query = new URLSearchParams({ offset, limit: PAGE });
    if (this.query) query.set("q", this.query);
    let page;
    try {
      page = await this.api.get(`/rooms/${this.roomId}/members?${query}`);
    } catch {
      return;
    }
    if (request !== this.request) return; // a newer search answered first
    const items = page.members.map((member) => this.item(member));
    if (fresh) this.list.replaceChildren(...items);
    else this.list.append(...items);
    this.loaded = offset + page.members.length;
    if (!this.loaded) {
      const none = document.createElement("li");
      none.textContent = this.strings.members_none;
      this.list.replaceChildren(none);
    }
    this.more.hidden = !page.has_more;
    if (!this.query && this.count) this.count.textContent = page.total;
  }

  item(member) {
    const item = document.createElement("li");
    item.dataset.userId = member.id;
    const name = document.createElement("span");
    name.className = member.online ? "name online" : "name";
    name.textContent = member.display_name;
    const branch = document.createElement("span");
    branch.className = "branch";
    branch.textContent = member.branch;
    item.append(name, branch);
    if (member.online) {
      const status = document.createElement("span");
      status.className = "visually-hidden";
      status.textContent = this.strings.online;
      item.append(status);
    }
    return item;
  }
}
