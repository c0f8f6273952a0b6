// The emoji picker: a popover grid of common Unicode emoji (no pictures, nothing fetched), in
// four groups. Arrow keys move in the grid, Enter or a click types the emoji at the caret of
// the message box, Escape closes it and gives focus back to its button. No server call.

import { insertText } from "./formatting.js";
import { Popover, rovingFocus } from "./popover.js";

const COLUMNS = 8;
// Each group fills whole rows of COLUMNS, so Up and Down keep their column across groups.
const GROUPS = {
  emoji_faces: "😀 😄 😁 😊 🙂 😉 😍 🤔 😐 😮 😅 😂 😢 😭 😡 😷",
  emoji_hands: "👍 👎 👌 👏 🙏 🤝 👋 ✋ ✌️ 👉 👈 👆 👇 💪 🙌 ✍️",
  emoji_office: "📎 📌 📋 📄 📁 📅 ⏰ ☎️ 💻 🖨️ 🔑 💰 📦 ✉️ 🏢 🧾",
  emoji_symbols: "✅ ❌ ⚠️ ❗ ❓ ⭐ 🔥 ❤️ 💯 🎉 ➡️ ⬆️ ⬇️ 🔴 🟢 🆗",
};

export class EmojiPicker {
  constructor({ button, container, box, strings }) {
    Object.assign(this, { button, container, box, strings });
  }

  build() {
    const panel = document.createElement("div");
    panel.className = "popover emoji-picker";
    panel.setAttribute("role", "dialog");
    panel.setAttribute("aria-label", this.strings.fmt_emoji);
    this.items = [];
    for (const [key, list] of Object.entries(GROUPS)) {
      const heading = document.createElement("p");
      heading.className = "emoji-group-name";
      heading.id = `emoji-${key}`;
      heading.textContent = this.strings[key];
      const grid = document.createElement("div");
      grid.className = "emoji-grid";
      grid.setAttribute("role", "group");
      grid.setAttribute("aria-labelledby", heading.id);
      for (const emoji of list.split(" ")) {
        const item = document.createElement("button");
        item.type = "button";
        item.className = "emoji";
        item.textContent = emoji;
        item.tabIndex = -1;
        item.addEventListener("mousedown", (event) => event.preventDefault());
        item.addEventListener("click", () => this.choose(emoji));
        grid.append(item);
        this.items.push(item);
      }
      panel.append(heading, grid);
    }
    const makeCurrent = rovingFocus(panel, () => this.items, { columns: COLUMNS });
    this.popover = new Popover(this.button, panel, {
      onOpen: () => {
        makeCurrent(this.items[0]);
        this.items[0].focus();
      },
    });
    this.button.setAttribute("aria-haspopup", "dialog");
    this.container.append(panel);
  }

  choose(emoji) {
    this.popover.close();
    insertText(this.box, emoji);
  }
}
