// Server contract: users as in GET /api/v1/users ({id, display_name, branch_name, online,
// last_seen_at}; directory.js, given to setUsers); live {"type":"presence.changed", online: [ids], offline: [ids], last_seen_at} and
// {"type":"ready", online_user_ids} events. Renders #people-list grouped by branch, online
// people first, offline ones with the time they were last seen.

export class PeoplePanel {
  constructor({ container, counters, me, timeZone, language, strings }) {
    Object.assign(this, { container, counters, me, strings, language });
    this.users = new Map();
    const locale = language === "en" ? "en-GB" : "zh-CN";
    this.timeFormat = new Intl.DateTimeFormat(locale, {
      timeZone, hour: "2-digit", minute: "2-digit", hourCycle: "h23",
    });
    this.dateFormat = new Intl.DateTimeFormat(locale, {
      timeZone, month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23",
    });
    this.dayKey = new Intl.DateTimeFormat("en-CA", { timeZone, year: "numeric", month: "2-digit", day: "2-digit" });
  }

  setUsers(users) {
    this.users = new Map(users.map((user) => [user.id, { ...user }]));
    this.render();
  }

  applyChanges({ online, offline, last_seen_at: lastSeenAt }) {
    for (const [ids, isOnline] of [[online, true], [offline, false]]) {
      for (const userId of ids) {
        const user = this.users.get(userId);
        if (!user) continue;
        user.online = isOnline;
        user.last_seen_at = lastSeenAt;
      }
    }
    this.render();
  }

  setOnlineSet(ids) {
    const online = new Set(ids);
    for (const user of this.users.values()) user.online = online.has(user.id);
    this.render();
  }

  lastSeen(iso) {
    const at = new Date(iso);
    const today = this.dayKey.format(new Date()) === this.dayKey.format(at);
    const text = (today ? this.timeFormat : this.dateFormat).format(at);
    return this.strings.last_seen.replace("%(time)s", text);
  }

  render() {
    const collator = new Intl.Collator(this.language === "en" ? "en" : "zh-CN");
    const branches = new Map();
    for (const user of this.users.values()) {
      if (!branches.has(user.branch_name)) branches.set(user.branch_name, []);
      branches.get(user.branch_name).push(user);
    }
    const sections = [];
    let onlineTotal = 0;
    for (const [branch, users] of [...branches].sort(([a], [b]) => collator.compare(a, b))) {
      users.sort((a, b) => Number(b.online) - Number(a.online)
        || collator.compare(a.display_name, b.display_name));
      const online = users.filter((user) => user.online).length;
      onlineTotal += online;
      const section = document.createElement("section");
      section.className = "branch-group";
      const heading = document.createElement("h3");
      heading.textContent = `${branch} · ${online}/${users.length}`;
      const list = document.createElement("ul");
      list.setAttribute("aria-label", branch);
      for (const user of users) list.append(this.item(user));
      section.append(heading, list);
      sections.push(section);
    }
    this.container.replaceChildren(...sections);
    const summary = this.strings.online_count
      .replace("%(online)s", onlineTotal).replace("%(total)s", this.users.size);
    for (const counter of this.counters) {
      counter.textContent = `${onlineTotal}/${this.users.size}`;
      counter.title = summary;
    }
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
    name.textContent = user.display_name;
    if (user.id === this.me.id) {
      const you = document.createElement("span");
      you.className = "you";
      you.textContent = this.strings.you;
      name.append(you);
    }
    const status = document.createElement("span");
    status.className = "status";
    if (user.online) {
      status.textContent = this.strings.online;
    } else if (user.last_seen_at) {
      status.textContent = this.lastSeen(user.last_seen_at);
    } else {
      status.textContent = this.strings.never_seen;
    }
    item.append(dot, name, status);
    if (user.id !== this.me.id && this.strings.message_action) {
      // conversations.js starts a direct message on click (one listener for the list)
      const message = document.createElement("button");
      message.type = "button";
      message.className = "message-person";
      message.dataset.messageUser = user.username;
      // Offline people get "leave a message": they will see it when they log in.
      const leave = !user.online && this.strings.message_leave;
      message.textContent = leave ? this.strings.message_leave : this.strings.message_action;
      const label = leave ? this.strings.message_leave_person : this.strings.message_person;
      message.setAttribute("aria-label", label.replace("%(name)s", user.display_name));
      item.append(message);
    }
    return item;
  }
}
