// The composer's formatting toolbar (role=toolbar: one tab stop, arrow keys move along it)
// and its keyboard shortcuts in the message box: Ctrl/⌘+B bold, +I italic, +E code, +K link.
// It writes the Markdown subset of messages/rendering.py (see formatting.js); the colours
// are the server's fixed palette, rendered as <span class="tc-NAME">. No server call here:
// the emoji picker (emoji.js), attachments (attachments_tray.js) and preview (preview.js)
// get their buttons from here.

import { COLOURS, colour, link, linkTarget, prefixLines, wrap, wrapCode } from "./formatting.js";
import { Popover, rovingFocus } from "./popover.js";

const MAC = /Mac|iPhone|iPad/.test(navigator.platform || "");

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** "Ctrl+B" / "⌘B" for people, "Control+B" / "Meta+B" for aria-keyshortcuts. */
function shortcut(key) {
  return {
    shown: MAC ? `⌘${key}` : `Ctrl+${key}`,
    aria: MAC ? `Meta+${key}` : `Control+${key}`,
  };
}

export class Toolbar {
  constructor({ container, box, strings }) {
    Object.assign(this, { container, box, strings });
    this.buttons = [];
  }

  /** Build the toolbar into the container; returns the buttons others drive. */
  build() {
    const s = this.strings;
    const bar = el("div", "toolbar");
    bar.setAttribute("role", "toolbar");
    bar.setAttribute("aria-label", s.fmt_toolbar);
    bar.setAttribute("aria-controls", this.box.id);
    this.bar = bar;
    const sample = s.fmt_sample;
    const groups = [
      [
        this.tool("bold", s.fmt_bold, "B", "B", () => wrap(this.box, "**", "**", sample)),
        this.tool("italic", s.fmt_italic, "I", "I", () => wrap(this.box, "*", "*", sample)),
        this.tool("strike", s.fmt_strike, "S", null, () => wrap(this.box, "~~", "~~", sample)),
        this.tool("code", s.fmt_code, "</>", "E", () => wrapCode(this.box, "B1E-0D7")),
        this.colourMenu(),
      ],
      [
        this.tool("bullets", s.fmt_bullets, "", null, () => prefixLines(this.box, "bullets")),
        this.tool("numbers", s.fmt_numbers, "", null, () => prefixLines(this.box, "numbers")),
        this.tool("quote", s.fmt_quote, "❝", null, () => prefixLines(this.box, "quote")),
        this.linkDialog(),
      ],
      [
        this.emojiButton = this.tool("emoji", s.fmt_emoji, "☺", null, null),
        this.attachButton = this.tool("attach", s.fmt_attach, "", null, null),
        this.helpPopover(),
      ],
    ];
    for (const group of groups) {
      const span = el("span", "tool-group");
      span.append(...group);
      bar.append(span);
    }
    this.previewButton = el("button", "tool tool-preview", s.fmt_preview);
    this.previewButton.type = "button";
    this.previewButton.setAttribute("aria-pressed", "false");
    this.buttons.push(this.previewButton);
    bar.append(this.previewButton);
    this.container.prepend(bar);
    const makeCurrent = rovingFocus(bar, () => this.buttons);
    makeCurrent(this.buttons[0]);
    this.box.addEventListener("keydown", (event) => this.shortcut(event));
    return { emoji: this.emojiButton, attach: this.attachButton, preview: this.previewButton };
  }

  tool(name, label, glyph, key, run) {
    const button = el("button", `tool tool-${name}`);
    button.type = "button";
    button.dataset.tool = name;
    button.setAttribute("aria-label", label);
    button.title = label;
    if (key) {
      const keys = shortcut(key);
      button.title = `${label} (${keys.shown})`;
      button.setAttribute("aria-keyshortcuts", keys.aria);
    }
    button.append(el("span", "tool-glyph", glyph));
    button.firstChild.setAttribute("aria-hidden", "true");
    if (run) {
      // Keep the caret (and a phone's keyboard) in the message box when clicked or tapped.
      button.addEventListener("mousedown", (event) => event.preventDefault());
      button.addEventListener("click", run);
    }
    this.buttons.push(button);
    return button;
  }

  /** The message box's own shortcuts. */
  shortcut(event) {
    if (!(MAC ? event.metaKey : event.ctrlKey) || event.altKey || event.shiftKey) return;
    const actions = {
      b: () => wrap(this.box, "**", "**", this.strings.fmt_sample),
      i: () => wrap(this.box, "*", "*", this.strings.fmt_sample),
      e: () => wrapCode(this.box, "B1E-0D7"),
      k: () => {
        this.linkFromKeys = true;
        this.linkPopover.open();
      },
    };
    const action = actions[event.key.toLowerCase()];
    if (!action) return;
    event.preventDefault();
    action();
  }

  colourMenu() {
    const s = this.strings;
    const button = this.tool("colour", s.fmt_colour, "A", null, null);
    const menu = el("div", "popover colour-menu");
    menu.setAttribute("role", "menu");
    menu.setAttribute("aria-label", s.fmt_colour);
    const items = COLOURS.map((name) => {
      const item = el("button", "colour-item");
      item.type = "button";
      item.setAttribute("role", "menuitem");
      item.dataset.colour = name;
      item.tabIndex = -1;
      const swatch = el("span", `swatch swatch-${name}`);
      swatch.setAttribute("aria-hidden", "true");
      item.append(swatch, el("span", `colour-name tc-${name}`, s[`colour_${name}`]));
      item.addEventListener("click", () => {
        popover.close();
        colour(this.box, name, s.fmt_sample);
      });
      return item;
    });
    menu.append(...items);
    const makeCurrent = rovingFocus(menu, () => items, { vertical: true });
    const popover = new Popover(button, menu, {
      onOpen: () => {
        makeCurrent(items[0]);
        items[0].focus();
      },
    });
    button.setAttribute("aria-haspopup", "menu");
    this.container.append(menu);
    return button;
  }

  linkDialog() {
    const s = this.strings;
    const keys = shortcut("K");
    const button = this.tool("link", s.fmt_link, "", "K", null);
    const panel = el("div", "popover link-dialog");
    panel.setAttribute("role", "dialog");
    panel.setAttribute("aria-label", s.fmt_link);
    const label = el("label", "", s.link_address);
    const input = el("input");
    input.type = "text";
    input.inputMode = "url";
    input.autocomplete = "off";
    input.spellcheck = false;
    input.placeholder = "https://";
    input.id = "composer-link-url";
    label.htmlFor = input.id;
    const error = el("p", "popover-error");
    error.id = "composer-link-error";
    error.hidden = true;
    input.setAttribute("aria-describedby", error.id);
    const insert = el("button", "primary", s.link_insert);
    insert.type = "button";
    const cancel = el("button", "", s.cancel);
    cancel.type = "button";
    const actions = el("div", "popover-actions");
    actions.append(cancel, insert);
    panel.append(label, input, error, actions);
    let range = null;
    const popover = new Popover(button, panel, {
      onOpen: () => {
        range = { start: this.box.selectionStart, end: this.box.selectionEnd };
        const selected = this.box.value.slice(range.start, range.end);
        input.value = linkTarget(selected) ? selected.trim() : "";
        error.hidden = true;
        input.focus();
      },
      // Opened with Ctrl+K from the message box: Escape goes back there.
      onClose: () => { this.linkFromKeys = false; },
      returnFocus: () => (this.linkFromKeys ? this.box : button),
    });
    const done = () => {
      const url = linkTarget(input.value);
      if (!url) {
        error.textContent = s.link_invalid;
        error.hidden = false;
        input.focus();
        return;
      }
      popover.close();
      link(this.box, url, range);
    };
    insert.addEventListener("click", done);
    cancel.addEventListener("click", () => {
      popover.close();
      this.box.focus();
    });
    input.addEventListener("keydown", (event) => {
      if (event.key !== "Enter" || event.isComposing) return;
      event.preventDefault(); // not the composer form's submit
      done();
    });
    this.linkPopover = popover;
    this.container.append(panel);
    button.title = `${s.fmt_link} (${keys.shown})`;
    return button;
  }

  helpPopover() {
    const s = this.strings;
    const button = this.tool("help", s.fmt_help, "?", null, null);
    const panel = el("div", "popover format-help");
    panel.setAttribute("role", "dialog");
    panel.setAttribute("aria-labelledby", "format-help-title");
    panel.tabIndex = -1;
    const title = el("h2", "", s.fmt_help);
    title.id = "format-help-title";
    const table = el("table");
    const head = el("tr");
    for (const text of [s.help_format, s.help_type, s.help_keys]) head.append(el("th", "", text));
    table.append(el("thead"), el("tbody"));
    table.tHead.append(head);
    const sample = s.fmt_sample;
    const rows = [
      [s.fmt_bold, "strong", `**${sample}**`, "B"],
      [s.fmt_italic, "em", `*${sample}*`, "I"],
      [s.fmt_strike, "s", `~~${sample}~~`, null],
      [s.fmt_code, "code", "`B1E-0D7`", "E"],
      [s.colour_red, "span.tc-red", `{red}${sample}{/red}`, null],
      [s.fmt_bullets, "", `- ${sample}`, null],
      [s.fmt_numbers, "", `1. ${sample}`, null],
      [s.fmt_quote, "", `> ${sample}`, null],
      [s.fmt_link, "", `[${sample}](https://…)`, "K"],
    ];
    for (const [name, tag, typed, key] of rows) {
      const row = el("tr");
      const [element, className] = (tag || "span").split(".");
      row.append(el("td"), el("td"), el("td", "", key ? shortcut(key).shown : "—"));
      row.cells[0].append(el(element, className || "", name));
      row.cells[1].append(el("code", "", typed));
      table.tBodies[0].append(row);
    }
    const names = COLOURS.map((name) => `${name} ${s[`colour_${name}`]}`).join(" · ");
    const colours = el("p", "help-note", s.help_colours.replace("%(names)s", names));
    this.helpKeys = el("p", "help-note");
    const close = el("button", "popover-close", "×");
    close.type = "button";
    close.setAttribute("aria-label", s.close);
    const popover = new Popover(button, panel, { onOpen: () => panel.focus() });
    close.addEventListener("click", () => popover.close({ focusButton: true }));
    panel.append(close, title, table, colours, this.helpKeys);
    this.container.append(panel);
    return button;
  }

  /** The help's last line: what Enter does here (it depends on phone or PC). */
  setEnterHelp(text) {
    if (this.helpKeys) this.helpKeys.textContent = text;
  }
}
