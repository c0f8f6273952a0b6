// Server contract: users as in GET /api/v1/users ({id, display_name, branch_name,
// online, last_seen_at}); live "presence.changed" {user_id, online, last_seen_at}
// and "ready" {online_user_ids} events. Renders #people-list grouped by branch.

export class PeoplePanel {
  constructor({ container, counter, users, me, timeZone, language, strings }) {
    Object.assign(this, { container, counter, me, strings });
    this.users = new Map(users.map((user) => [user.id, { ...user }]));
    this.formatter = new Intl.DateTimeFormat(language === "en" ? "en-GB" : "zh-CN", {
      timeZone, month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hour12: false,
    });
  }

  setOnline(userId, online, lastSeenAt) {
    const user = this.users.get(userId);
    if (!user) return;
    user.online = online;
    if (lastSeenAt) user.last_seen_at = lastSeenAt;
    this.render();
  }

  setOnlineSet(ids) {
    const online = new Set(ids);
    for (const user of this.users.values()) user.online = online.has(user.id);
    this.render();
  }

  render() {
    const branches = new Map();
    for (const user of this.users.values()) {
      if (!branches.has(user.branch_name)) branches.set(user.branch_name, []);
      branches.get(user.branch_name).push(user);
    }
    const sections = [];
    let onlineTotal = 0;
    for (const [branch, users] of [...branches].sort(([a], [b]) => a.localeCompare(b, "zh-CN"))) {
      users.sort((a, b) => Number(b.online) - Number(a.online)
        || a.display_name.localeCompare(b.display_name, "zh-CN"));
      const online = users.filter((user) => user.online).length;
      onlineTotal += online;
      const section = document.createElement("section");
      section.className = "branch-group";
      const heading = document.createElement("h3");
      heading.textContent = `${branch} (${online}/${users.length})`;
      const list = document.createElement("ul");
      list.setAttribute("aria-label", branch);
      for (const user of users) list.append(this.item(user));
      section.append(heading, list);
      sections.push(section);
    }
    this.container.replaceChildren(...sections);
    this.counter.textContent = `${onlineTotal}/${this.users.size}`;
  }

  item(user) {
    const item = document.createElement("li");
    item.className = user.online ? "person online" : "person offline";
    item.dataset.userId = user.id;
    item.dataset.online = String(user.online);
    const dot = document.createElement("span");
    dot.className = "dot";
    dot.setAttribute("aria-hidden", "true");
    const name = document.createElement("span");
    name.className = "name";
    name.textContent = user.id === this.me.id ? `${user.display_name} ${this.strings.you}` : user.display_name;
    const status = document.createElement("span");
    status.className = "status";
    if (user.online) {
      status.textContent = this.strings.online;
    } else if (user.last_seen_at) {
      const time = this.formatter.format(new Date(user.last_seen_at));
      status.textContent = this.strings.last_seen.replace("%(time)s", time);
    } else {
      status.textContent = this.strings.offline;
    }
    item.append(dot, name, status);
    return item;
  }
}
