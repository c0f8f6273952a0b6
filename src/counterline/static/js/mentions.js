// Mentions autocomplete in the composer. Data: the staff directory (directory.js: users with
// username, display_name, branch_name, role, pinyin, initials; accounts/views.py), given to
// setUsers when it arrives. Typing "@" opens a
// listbox of people, branches, roles and @all; the typed text matches a username, a display
// name, its pinyin ("wangfang") or its initials ("wf"). Choosing inserts the token the server
// resolves (messages/mentions.py): "@username", "@<branch name>", "@<role name>", "@all".
// Keys: ↑/↓ move, Enter or Tab choose, Escape closes; the textarea stays focused and names the
// active option with aria-activedescendant.

const MAX_SHOWN = 8;
const ROLES = ["clerk", "trainer", "manager", "admin"];
// An "@" starts a mention at the start of the text or after a space or punctuation.
const TRIGGER = /(^|[\s(（，,。：:；;、"'“‘])@([^\s@]{0,30})$/u;

export class MentionPicker {
  constructor({ input, me, strings }) {
    Object.assign(this, { input, me, strings });
    this.people = [];
    this.branches = [];
    this.options = [];
    this.active = -1;
    this.start = -1;
  }

  setUsers(users) {
    this.people = users.filter((user) => user.id !== this.me.id);
    this.branches = [...new Set(users.map((user) => user.branch_name))];
  }

  attach() {
    const list = document.createElement("ul");
    list.id = "mention-list";
    list.className = "mention-list";
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", this.strings.mention_list);
    list.hidden = true;
    this.list = list;
    this.input.closest("form").append(list);
    this.input.setAttribute("aria-autocomplete", "list");
    this.input.setAttribute("aria-controls", list.id);
    this.input.setAttribute("aria-expanded", "false");
    // Registered in the capture phase, so Enter chooses here before the composer sends.
    this.input.addEventListener("keydown", (event) => this.keydown(event), { capture: true });
    this.input.addEventListener("input", () => this.update());
    this.input.addEventListener("click", () => this.update());
    this.input.addEventListener("blur", () => setTimeout(() => this.close(), 150));
    list.addEventListener("mousedown", (event) => event.preventDefault());
    list.addEventListener("click", (event) => {
      const option = event.target.closest("[role=option]");
      if (option) this.choose(Number(option.dataset.index));
    });
  }

  get isOpen() {
    return !this.list.hidden;
  }

  /** Every candidate matching what follows the "@", people first. */
  candidates(query) {
    const q = query.toLowerCase();
    const found = [];
    for (const user of this.people) {
      const hit = !q || user.username.toLowerCase().startsWith(q) || user.display_name.includes(query)
        || (user.pinyin || "").startsWith(q) || (user.initials || "").startsWith(q);
      if (hit) {
        found.push({
          token: `@${user.username}`,
          label: user.display_name,
          detail: user.branch_name,
          kind: "user",
        });
      }
    }
    for (const branch of this.branches) {
      if (!q || branch.includes(query)) {
        found.push({ token: `@${branch}`, label: branch, detail: this.strings.mention_branch, kind: "branch" });
      }
    }
    for (const role of ROLES) {
      const label = this.strings[`role_${role}`] || role;
      if (!q || role.startsWith(q) || label.includes(query)) {
        // The role's shown name is also a token the server answers to (柜员, trainers…).
        found.push({ token: `@${label}`, label, detail: this.strings.mention_role, kind: "role" });
      }
    }
    if (!q || "all".startsWith(q) || this.strings.mention_all.includes(query)) {
      found.push({ token: "@all", label: "@all", detail: this.strings.mention_all, kind: "all" });
    }
    return found.slice(0, MAX_SHOWN);
  }

  update() {
    const caret = this.input.selectionStart;
    if (caret !== this.input.selectionEnd) {
      this.close();
      return;
    }
    const match = TRIGGER.exec(this.input.value.slice(0, caret));
    if (!match) {
      this.close();
      return;
    }
    this.start = caret - match[2].length - 1;
    this.options = this.candidates(match[2]);
    if (!this.options.length) {
      this.close();
      return;
    }
    this.render();
  }

  render() {
    this.list.replaceChildren(...this.options.map((option, index) => {
      const item = document.createElement("li");
      item.id = `mention-option-${index}`;
      item.setAttribute("role", "option");
      item.dataset.index = String(index);
      item.dataset.kind = option.kind;
      const label = document.createElement("span");
      label.className = "mention-label";
      label.textContent = option.label;
      const detail = document.createElement("span");
      detail.className = "mention-detail";
      detail.textContent = option.detail;
      item.append(label, detail);
      return item;
    }));
    this.list.hidden = false;
    this.input.setAttribute("aria-expanded", "true");
    this.select(0);
  }

  select(index) {
    const count = this.options.length;
    this.active = (index + count) % count;
    for (const item of this.list.children) {
      item.setAttribute("aria-selected", String(Number(item.dataset.index) === this.active));
    }
    this.input.setAttribute("aria-activedescendant", `mention-option-${this.active}`);
    this.list.children[this.active]?.scrollIntoView({ block: "nearest" });
  }

  close() {
    if (!this.list || this.list.hidden) return;
    this.list.hidden = true;
    this.list.replaceChildren();
    this.options = [];
    this.input.setAttribute("aria-expanded", "false");
    this.input.removeAttribute("aria-activedescendant");
  }

  keydown(event) {
    if (!this.isOpen || event.isComposing || event.keyCode === 229) return;
    const handled = {
      ArrowDown: () => this.select(this.active + 1),
      ArrowUp: () => this.select(this.active - 1),
      Enter: () => this.choose(this.active),
      Tab: () => this.choose(this.active),
      Escape: () => this.close(),
    }[event.key];
    if (!handled || event.shiftKey || event.ctrlKey || event.metaKey || event.altKey) return;
    event.preventDefault();
    event.stopImmediatePropagation();
    handled();
  }

  choose(index) {
    const option = this.options[index];
    if (!option) return;
    const value = this.input.value;
    const caret = this.input.selectionStart;
    const inserted = `${option.token} `;
    this.input.value = value.slice(0, this.start) + inserted + value.slice(caret);
    const at = this.start + inserted.length;
    this.input.setSelectionRange(at, at);
    this.close();
    this.input.focus();
    this.input.dispatchEvent(new Event("input", { bubbles: true }));
  }
}
