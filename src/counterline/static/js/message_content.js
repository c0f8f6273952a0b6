// What a message shows besides its text. Server contract (messages/schemas.py MessageOut):
// `html` (sanitised by the server; `body_html` for older servers) may hold inline <code>
// (resource codes), <pre><code> (code blocks) and <span class="unc"> (a UNC path or file: URL
// shown as typed; browsers cannot open them); `attachments` is a list of {id, name,
// content_type, size, kind: "image"|"file", url, thumbnail_url|null, width, height,
// thumb_width, thumb_height}. Here: copy buttons and spelled-out titles for codes and paths,
// folding of long bodies, picture thumbnails with their size reserved, a lightbox, file cards.

export const FOLD_LINES = 15;
// A body only a little taller than the fold is not worth a "show more".
const FOLD_SLACK_LINES = 3;
const SPELL_MAX_CHARS = 120;
// The server's thumbnails fit in this box (uploads/pictures.py THUMB_BOX); smaller pictures
// are their own thumbnails.
const THUMB_BOX = 400;

const NATO = [
  "Alpha", "Bravo", "Charlie", "Delta", "Echo", "Foxtrot", "Golf", "Hotel", "India",
  "Juliett", "Kilo", "Lima", "Mike", "November", "Oscar", "Papa", "Quebec", "Romeo",
  "Sierra", "Tango", "Uniform", "Victor", "Whiskey", "X-ray", "Yankee", "Zulu",
];

// Spelling tables: data, one per page language (boot.language), not sentences.
const SPELLING = {
  en: {
    separator: ", ",
    letter: (char, word, upper, mixed) => {
      if (!upper) return `lower-case ${char} as in ${word}`;
      return mixed ? `capital ${char} as in ${word}` : `${char} as in ${word}`;
    },
    digits: ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"],
    digit: (char, word) => `${char} (digit ${word})`,
    symbol: (char, word) => (char === " " ? word : `${word} (${char})`),
    symbols: {
      "-": "hyphen", _: "underscore", "/": "slash", "\\": "backslash", ".": "dot",
      ":": "colon", " ": "space", "#": "hash", "@": "at sign", "+": "plus", ",": "comma",
      ";": "semicolon", "(": "open bracket", ")": "close bracket", "=": "equals sign",
      "&": "ampersand", "%": "percent", "$": "dollar", "*": "asterisk", "!": "exclamation mark",
      "?": "question mark", "~": "tilde", "'": "apostrophe", "\"": "double quote",
    },
  },
  zh_CN: {
    separator: "，",
    letter: (char, word, upper, mixed) => {
      if (!upper) return `小写${char}（${word}）`;
      return mixed ? `大写${char}（${word}）` : `${char}（${word}）`;
    },
    digits: ["零", "一", "二", "三", "四", "五", "六", "七", "八", "九"],
    digit: (char, word) => `${char}（数字${word}）`,
    symbol: (char, word) => (char === " " ? word : `${char}（${word}）`),
    symbols: {
      "-": "横杠", _: "下划线", "/": "斜杠", "\\": "反斜杠", ".": "点", ":": "冒号",
      " ": "空格", "#": "井号", "@": "艾特", "+": "加号", ",": "逗号", ";": "分号",
      "(": "左括号", ")": "右括号", "=": "等号", "&": "和号", "%": "百分号", "$": "美元符号",
      "*": "星号", "!": "感叹号", "?": "问号", "~": "波浪号", "'": "单引号", "\"": "双引号",
    },
  },
};

/** A code spelled out character by character, e.g. "B（Bravo），1（数字一），E（Echo）". */
export function spellOut(text, language) {
  const table = SPELLING[language] || SPELLING.zh_CN;
  const mixed = /[a-z]/.test(text) && /[A-Z]/.test(text);
  const parts = [];
  for (const char of text) {
    const upper = char.toUpperCase();
    if (/^[A-Za-z]$/.test(char)) {
      parts.push(table.letter(char, NATO[upper.charCodeAt(0) - 65], char === upper, mixed));
    } else if (/^[0-9]$/.test(char)) {
      parts.push(table.digit(char, table.digits[Number(char)]));
    } else if (char in table.symbols) {
      parts.push(table.symbol(char, table.symbols[char]));
    } else if (/\s/.test(char)) {
      parts.push(table.symbol(" ", table.symbols[" "]));
    } else {
      parts.push(char);
    }
  }
  return parts.join(table.separator);
}

// Cascadia Mono and Consolas (Windows) draw a marked zero; the faces other PCs and phones
// fall back to (DejaVu Sans Mono, Noto, Menlo) draw 0 almost like O and have no slashed-zero
// variant, so there each 0 in a code gets a drawn slash (a span; the text is unchanged).
let zeroNeedsMark = null;
function needsZeroMark() {
  if (zeroNeedsMark === null) {
    const pen = document.createElement("canvas").getContext("2d");
    const width = (family) => {
      pen.font = `40px ${family}`;
      return pen.measureText("0O1lI5S8Bmw").width;
    };
    const fallback = width("monospace");
    zeroNeedsMark = !["\"Cascadia Mono\"", "\"Cascadia Code\"", "Consolas"].some(
      (family) => width(`${family}, monospace`) !== fallback,
    );
  }
  return zeroNeedsMark;
}

function markZeros(code) {
  const walker = document.createTreeWalker(code, NodeFilter.SHOW_TEXT);
  const texts = [];
  while (walker.nextNode()) if (walker.currentNode.data.includes("0")) texts.push(walker.currentNode);
  for (const text of texts) {
    const parts = text.data.split("0");
    const pieces = [];
    parts.forEach((part, index) => {
      if (index > 0) {
        const zero = document.createElement("span");
        zero.className = "zero";
        zero.textContent = "0";
        pieces.push(zero);
      }
      if (part) pieces.push(part);
    });
    text.replaceWith(...pieces);
  }
}

/** Put text on the clipboard: the Clipboard API where the page may use it (https, localhost),
 * else a selected off-screen textarea and the older copy command (intranet http pages). */
export async function copyText(text) {
  if (navigator.clipboard && window.isSecureContext) {
    try {
      await navigator.clipboard.writeText(text);
      return true;
    } catch {
      // fall through: permission refused, or the document is not focused
    }
  }
  const area = document.createElement("textarea");
  area.value = text;
  area.setAttribute("readonly", "");
  area.className = "clipboard-helper";
  const focused = document.activeElement;
  document.body.append(area);
  area.select();
  let done = false;
  try {
    done = document.execCommand("copy");
  } catch {
    done = false;
  }
  area.remove();
  if (focused instanceof HTMLElement) focused.focus();
  return done;
}

function fillIn(text, values) {
  return text.replace(/%\((\w+)\)s/g, (whole, name) => (name in values ? values[name] : whole));
}

// The spelling of a code also shows on a click or tap (phones have no hover for the title).
let tip = null;
function hideSpelling() {
  if (tip) tip.hidden = true;
}
function showSpelling(code, text) {
  if (!tip) {
    tip = document.createElement("div");
    tip.className = "spell-tip";
    tip.setAttribute("role", "tooltip");
    tip.hidden = true;
    document.body.append(tip);
    document.addEventListener("pointerdown", (event) => {
      if (!event.target.closest?.(".resource-code, .resource-path")) hideSpelling();
    });
    document.addEventListener("keydown", (event) => {
      if (event.key === "Escape") hideSpelling();
    });
    document.addEventListener("scroll", hideSpelling, { capture: true, passive: true });
    window.addEventListener("resize", hideSpelling);
  }
  if (!tip.hidden && tip.dataset.for === text) {
    hideSpelling();
    return;
  }
  tip.dataset.for = text;
  tip.textContent = text;
  tip.hidden = false;
  const box = code.getBoundingClientRect();
  const width = tip.offsetWidth;
  const left = Math.max(8, Math.min(box.left, window.innerWidth - width - 8));
  const below = box.bottom + 6 + tip.offsetHeight < window.innerHeight;
  tip.style.left = `${left}px`;
  tip.style.top = `${below ? box.bottom + 6 : box.top - tip.offsetHeight - 6}px`;
}

/** Make a message's rendered body usable: copy buttons and spelled-out titles. */
export function enhanceBody(body, { strings, language, announce }) {
  const copyButton = (label, text) => {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "copy-button";
    button.setAttribute("aria-label", label);
    button.title = label;
    button.addEventListener("click", async () => {
      const done = await copyText(text);
      announce(done ? strings.copied : strings.copy_failed);
      if (!done) return;
      button.classList.add("copied");
      setTimeout(() => button.classList.remove("copied"), 1500);
    });
    return button;
  };
  for (const code of body.querySelectorAll("code, span.unc")) {
    if (code.closest("pre, a")) continue;
    const text = code.textContent;
    if (!text.trim()) continue;
    const path = code.matches("span.unc");
    const wrapper = document.createElement("span");
    wrapper.className = path ? "code-chip path-chip" : "code-chip";
    code.replaceWith(wrapper);
    wrapper.append(code);
    if (text.length <= SPELL_MAX_CHARS) {
      const spelled = spellOut(text, language);
      code.title = spelled;
      code.setAttribute("aria-description", spelled);
      code.addEventListener("click", () => showSpelling(code, spelled));
    }
    if (path) {
      code.classList.add("resource-path");
    } else {
      code.classList.add("resource-code");
      if (needsZeroMark()) markZeros(code);
    }
    const label = fillIn(path ? strings.copy_path : strings.copy_code, { code: text });
    wrapper.append(copyButton(label, text));
  }
  for (const pre of body.querySelectorAll("pre")) {
    const wrapper = document.createElement("div");
    wrapper.className = "code-block";
    pre.replaceWith(wrapper);
    const text = pre.textContent.replace(/\n$/, "");
    if (needsZeroMark()) markZeros(pre);
    wrapper.append(pre, copyButton(strings.copy_block, text));
  }
}

/** Fold bodies taller than FOLD_LINES lines. Reads every height first, then writes, so a
 * page of fifty messages costs one layout. */
export function measureFolds(rows, strings) {
  const tall = [];
  for (const row of rows) {
    const body = row.querySelector(".body");
    const toggle = row.querySelector(".fold-toggle");
    if (!body || !toggle || !body.isConnected) continue;
    const lineHeight = parseFloat(getComputedStyle(body).lineHeight) || 22;
    tall.push([row, body, toggle, body.scrollHeight > lineHeight * (FOLD_LINES + FOLD_SLACK_LINES)]);
  }
  for (const [row, body, toggle, isTall] of tall) {
    toggle.hidden = !isTall;
    if (body.id) toggle.setAttribute("aria-controls", body.id);
    const expanded = row.dataset.expanded === "true";
    body.classList.toggle("folded", isTall && !expanded);
    toggle.setAttribute("aria-expanded", String(expanded));
    toggle.textContent = expanded ? strings.show_less : strings.show_more;
  }
}

/** The "show more" button under a body (hidden until measureFolds finds it tall). */
export function makeFoldToggle(row, body, strings) {
  const toggle = document.createElement("button");
  toggle.type = "button";
  toggle.className = "fold-toggle link-button";
  toggle.hidden = true;
  toggle.setAttribute("aria-expanded", "false");
  toggle.textContent = strings.show_more;
  toggle.addEventListener("click", () => {
    const expanded = toggle.getAttribute("aria-expanded") !== "true";
    row.dataset.expanded = String(expanded);
    body.classList.toggle("folded", !expanded);
    toggle.setAttribute("aria-expanded", String(expanded));
    toggle.textContent = expanded ? strings.show_less : strings.show_more;
    if (!expanded && body.getBoundingClientRect().top < 0) row.scrollIntoView({ block: "start" });
  });
  return toggle;
}

/** "1.2 MB" */
export function humanSize(bytes, language) {
  const locale = language === "en" ? "en-GB" : "zh-CN";
  const units = ["B", "KB", "MB", "GB"];
  let value = Number(bytes) || 0;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const digits = unit === 0 || value >= 100 ? 0 : 1;
  const number = new Intl.NumberFormat(locale, { maximumFractionDigits: digits }).format(value);
  return `${number} ${units[unit]}`;
}

function typeLabel(attachment) {
  const dot = attachment.name.lastIndexOf(".");
  if (dot > 0 && attachment.name.length - dot <= 6) return attachment.name.slice(dot + 1).toUpperCase();
  const sub = (attachment.content_type || "").split("/")[1] || "";
  return sub.split(/[.+;-]/).pop().slice(0, 5).toUpperCase() || "FILE";
}

const FILE_FAMILIES = [
  [/^(PDF)$/, "pdf"],
  [/^(DOC|DOCX|ODT|RTF|WPS|TXT|MD)$/, "doc"],
  [/^(XLS|XLSX|ODS|CSV|ET)$/, "sheet"],
  [/^(PPT|PPTX|ODP|DPS)$/, "slides"],
  [/^(ZIP|RAR|7Z|GZ|TAR)$/, "archive"],
];

/** The pictures and file cards of a message, or null when it has none. */
export function renderAttachments(attachments, { strings, language, lightbox }) {
  if (!attachments || !attachments.length) return null;
  const box = document.createElement("div");
  box.className = "attachments";
  for (const attachment of attachments) {
    if (attachment.kind === "image" && attachment.url) {
      box.append(pictureLink(attachment, strings, lightbox));
    } else {
      box.append(fileCard(attachment, strings, language));
    }
  }
  return box;
}

function pictureLink(attachment, strings, lightbox) {
  const link = document.createElement("a");
  link.className = "picture";
  link.href = attachment.url;
  link.target = "_blank";
  link.rel = "noopener";
  link.setAttribute("aria-haspopup", "dialog");
  link.setAttribute("aria-label", fillIn(strings.open_picture, { name: attachment.name }));
  const img = document.createElement("img");
  const thumbnail = Boolean(attachment.thumbnail_url);
  const [width, height] = thumbnail
    ? [attachment.thumb_width, attachment.thumb_height]
    : fitWithin(attachment.width, attachment.height, THUMB_BOX, THUMB_BOX);
  if (width && height) {
    img.width = width;
    img.height = height;
  }
  img.alt = attachment.name;
  img.loading = "lazy";
  img.decoding = "async";
  img.src = thumbnail ? attachment.thumbnail_url : attachment.url;
  link.append(img);
  link.addEventListener("click", (event) => {
    if (event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey) return;
    event.preventDefault();
    lightbox.open(attachment, link);
  });
  return link;
}

function fitWithin(width, height, maxWidth, maxHeight) {
  if (!width || !height) return [0, 0];
  const scale = Math.min(1, maxWidth / width, maxHeight / height);
  return [Math.max(1, Math.round(width * scale)), Math.max(1, Math.round(height * scale))];
}

function fileCard(attachment, strings, language) {
  const card = document.createElement("a");
  card.className = "file-card";
  card.href = attachment.url;
  card.setAttribute("download", attachment.name);
  const label = typeLabel(attachment);
  const family = FILE_FAMILIES.find(([pattern]) => pattern.test(label));
  const icon = document.createElement("span");
  icon.className = `file-icon file-${family ? family[1] : "other"}`;
  icon.setAttribute("aria-hidden", "true");
  icon.textContent = label.slice(0, 4);
  const text = document.createElement("span");
  text.className = "file-text";
  const name = document.createElement("span");
  name.className = "file-name";
  name.textContent = attachment.name;
  const meta = document.createElement("span");
  meta.className = "file-meta";
  meta.textContent = `${humanSize(attachment.size, language)} · ${label}`;
  text.append(name, meta);
  const download = document.createElement("span");
  download.className = "file-download";
  download.textContent = strings.download;
  card.append(icon, text, download);
  card.setAttribute(
    "aria-label",
    fillIn(strings.download_file, { name: attachment.name, size: meta.textContent }),
  );
  return card;
}

/** One <dialog> showing a full picture. Escape and the close button close it; focus goes
 * back to the thumbnail that opened it. */
export class Lightbox {
  constructor(strings) {
    this.strings = strings;
    this.dialog = null;
    this.opener = null;
  }

  build() {
    const dialog = document.createElement("dialog");
    dialog.className = "lightbox";
    dialog.setAttribute("aria-labelledby", "lightbox-title");
    const bar = document.createElement("div");
    bar.className = "lightbox-bar";
    const title = document.createElement("h2");
    title.id = "lightbox-title";
    title.className = "lightbox-title";
    const original = document.createElement("a");
    original.className = "lightbox-original";
    original.target = "_blank";
    original.rel = "noopener";
    original.textContent = this.strings.open_original;
    const close = document.createElement("button");
    close.type = "button";
    close.className = "lightbox-close";
    close.setAttribute("aria-label", this.strings.close);
    close.textContent = "×";
    close.addEventListener("click", () => dialog.close());
    bar.append(title, original, close);
    const frame = document.createElement("div");
    frame.className = "lightbox-frame";
    const img = document.createElement("img");
    frame.append(img);
    dialog.append(bar, frame);
    // A click on the dimmed backdrop (the dialog box itself, outside its content) closes it.
    dialog.addEventListener("click", (event) => {
      if (event.target === dialog || event.target === frame) dialog.close();
    });
    dialog.addEventListener("close", () => {
      img.removeAttribute("src");
      if (this.opener?.isConnected) this.opener.focus();
      this.opener = null;
    });
    document.body.append(dialog);
    Object.assign(this, { dialog, title, original, img, close });
  }

  open(attachment, opener) {
    if (!this.dialog) this.build();
    this.opener = opener;
    this.title.textContent = attachment.name;
    this.original.href = attachment.url;
    this.img.alt = attachment.name;
    if (attachment.width && attachment.height) {
      this.img.width = attachment.width;
      this.img.height = attachment.height;
    }
    this.img.src = attachment.url;
    this.dialog.showModal();
    this.close.focus();
  }
}
