// Direct messages and group conversations in the rooms panel, the "New message" dialog, the
// "Message" buttons of the people panel, and the live list of topic rooms to join.
// Server contract: POST /api/v1/conversations {members: [usernames], name?} answers the
// conversation (RoomOut: {id, kind: "conversation", name, members: [{id, username,
// display_name}]}), 201 when new, 200 when the 1:1 exists; stream events "room.joined"
// ({room}, a conversation with its members), "room.opened" ({room}: a new public topic
// room, sent to every tab) and "room.renamed" ({room}, to its members); PUT /api/v1/rooms/{id}/membership joins a topic room. Markup:
// #conversation-list, #new-conversation, #new-conversation-dialog, #joinable-list,
// #joinable-title in templates/rooms/room.html; any element with data-message-user=<username>
// (people.js renders them in the people panel) opens the 1:1 conversation with that person.

const MAX_OTHERS = 19;
const MAX_RESULTS = 30;

function fill(template, values) {
  return Object.entries(values).reduce((text, [key, value]) => text.replace(`%(${key})s`, value), template);
}

export class Conversations {
  constructor({ api, me, strings, announce }) {
    Object.assign(this, { api, me, strings, announce });
    this.users = []; // the staff directory but me (setUsers)
    this.list = document.getElementById("conversation-list");
    this.joinable = document.getElementById("joinable-list");
    this.joinableTitle = document.getElementById("joinable-title");
    this.dialog = document.getElementById("new-conversation-dialog");
    this.search = document.getElementById("new-conversation-search");
    this.results = document.getElementById("new-conversation-results");
    this.picked = document.getElementById("new-conversation-picked");
    this.nameInput = document.getElementById("new-conversation-name");
    this.error = document.getElementById("new-conversation-error");
    this.chosen = new Map(); // username → user
    this.starting = false;
  }

  setUsers(users) {
    this.users = users.filter((user) => user.id !== this.me.id);
    if (this.dialog?.open) this.renderResults();
  }

  attach() {
    document.getElementById("new-conversation")?.addEventListener("click", () => this.openDialog());
    // Any [data-message-user="<username>"] on the page starts (or opens) a 1:1 with them.
    document.addEventListener("click", (event) => {
      const button = event.target.closest("[data-message-user]");
      if (button) this.start([button.dataset.messageUser]);
    });
    if (!this.dialog) return;
    this.search.addEventListener("input", () => this.renderResults());
    this.results.addEventListener("click", (event) => {
      const button = event.target.closest("[data-username]");
      if (!button) return;
      const user = this.users.find((candidate) => candidate.username === button.dataset.username);
      if (user) this.pick(user);
    });
    this.picked.addEventListener("click", (event) => {
      const button = event.target.closest("[data-username]");
      if (!button) return;
      this.chosen.delete(button.dataset.username);
      this.renderPicked();
      this.renderResults();
      this.search.focus();
    });
    document.getElementById("new-conversation-start").addEventListener("click", () => {
      const usernames = [...this.chosen.keys()];
      if (!usernames.length) {
        this.showError(this.strings.dm_pick_someone);
        return;
      }
      this.start(usernames, this.nameInput.value.trim() || undefined);
    });
  }

  /** The conversation's title as this user sees it: the other person's name for a 1:1. */
  titleOf(room) {
    const members = room.members || [];
    if (members.length === 2) {
      const other = members.find((member) => member.id !== this.me.id);
      if (other) return other.display_name;
    }
    return room.name;
  }

  /** A room the user just joined: listed here if it is a conversation (returns true). */
  add(room) {
    if (room.kind !== "conversation") return false;
    if (document.querySelector(`[data-room-link="${room.id}"]`)) return true;
    const item = document.createElement("li");
    const link = document.createElement("a");
    link.href = `/rooms/${room.id}`;
    link.dataset.roomLink = room.id;
    const name = document.createElement("span");
    name.className = "room-name";
    name.textContent = this.titleOf(room);
    const badge = document.createElement("span");
    badge.className = "badge";
    badge.dataset.unread = room.id;
    badge.hidden = true;
    link.append(name, badge);
    item.append(link);
    this.list.prepend(item);
    return true;
  }

  /** A new public topic room, announced to every tab: offer it unless already a member. */
  roomOpened(room) {
    if (!this.joinable || room.kind !== "topic") return;
    if (document.querySelector(`[data-room-link="${room.id}"], [data-join-room="${room.id}"]`)) return;
    const item = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.className = "join-button";
    button.dataset.joinRoom = room.id;
    const name = document.createElement("span");
    name.className = "room-name";
    name.textContent = room.name;
    const label = document.createElement("span");
    label.className = "join-label";
    label.textContent = this.strings.join || "";
    button.append(name, label);
    button.addEventListener("click", () => this.join(room.id));
    item.append(button);
    this.joinable.append(item);
    this.joinableTitle.hidden = false;
  }

  /** A room of this user's was renamed ("room.renamed"): relabel it wherever it shows. */
  roomRenamed(room, currentRoomId) {
    const labels = document.querySelectorAll(
      `[data-room-link="${room.id}"] .room-name, [data-join-room="${room.id}"] .room-name`,
    );
    for (const label of labels) label.textContent = room.name;
    if (room.id !== currentRoomId) return;
    document.getElementById("room-title").textContent = room.name;
    const brand = document.title.lastIndexOf(" · ");
    document.title = room.name + (brand >= 0 ? document.title.slice(brand) : "");
  }

  async join(roomId) {
    try {
      const room = await this.api.put(`/rooms/${roomId}/membership`);
      window.location.assign(`/rooms/${room.id}`);
    } catch (error) {
      this.announce(error.message);
    }
  }

  async start(usernames, name) {
    if (this.starting) return;
    this.starting = true;
    try {
      const room = await this.api.post("/conversations", name ? { members: usernames, name } : { members: usernames });
      window.location.assign(`/rooms/${room.id}`);
    } catch (error) {
      if (this.dialog?.open) this.showError(error.message);
      else this.announce(error.message);
    } finally {
      this.starting = false;
    }
  }

  openDialog() {
    this.chosen.clear();
    this.search.value = "";
    this.nameInput.value = "";
    this.error.hidden = true;
    this.renderPicked();
    this.renderResults();
    this.dialog.showModal();
    this.search.focus();
  }

  showError(text) {
    this.error.textContent = text;
    this.error.hidden = false;
  }

  pick(user) {
    if (this.chosen.size >= MAX_OTHERS) {
      this.showError(fill(this.strings.dm_too_many, { max: MAX_OTHERS + 1 }));
      return;
    }
    this.error.hidden = true;
    this.chosen.set(user.username, user);
    this.search.value = "";
    this.renderPicked();
    this.renderResults();
    this.search.focus();
  }

  renderPicked() {
    const items = [...this.chosen.values()].map((user) => {
      const item = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.dataset.username = user.username;
      button.textContent = `${user.display_name} ×`;
      button.setAttribute("aria-label", fill(this.strings.dm_remove, { name: user.display_name }));
      item.append(button);
      return item;
    });
    this.picked.replaceChildren(...items);
  }

  renderResults() {
    const query = this.search.value.trim().toLowerCase();
    const found = this.users.filter((user) => !this.chosen.has(user.username) && (!query
      || user.display_name.toLowerCase().includes(query)
      || user.username.toLowerCase().includes(query)
      || (user.branch_name || "").toLowerCase().includes(query)));
    const items = found.slice(0, MAX_RESULTS).map((user) => {
      const item = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.dataset.username = user.username;
      const name = document.createElement("span");
      name.textContent = user.display_name;
      const branch = document.createElement("span");
      branch.className = "branch";
      branch.textContent = user.branch_name || "";
      button.append(name, branch);
      item.append(button);
      return item;
    });
    if (!items.length) {
      const none = document.createElement("li");
      none.textContent = this.strings.dm_none_found;
      items.push(none);
    }
    this.results.replaceChildren(...items);
  }
}
