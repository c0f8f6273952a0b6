// Editing the message box as the Markdown subset of messages/rendering.py expects: **bold**,
// *italic*, ~~strikethrough~~, `code`, {red}colour{/red} (red, orange, green, blue, purple,
// grey), "- " bullets, "1. " numbers, "> " quotes and [text](https://…) links. No server call.
// Every change goes through document.execCommand("insertText"), so Ctrl+Z undoes it like
// typing; where that is missing (old Firefox) setRangeText, then an "input" event.

export const COLOURS = ["red", "orange", "green", "blue", "purple", "grey"];

/** Replace value[start:end] by text, then select text[selectStart:selectEnd]. */
export function replaceRange(box, start, end, text, selectStart = text.length, selectEnd = selectStart) {
  box.focus();
  box.setSelectionRange(start, end);
  let done = false;
  try {
    done = document.execCommand("insertText", false, text);
  } catch {
    done = false;
  }
  if (!done) {
    box.setRangeText(text, start, end, "end");
    box.dispatchEvent(new Event("input", { bubbles: true }));
  }
  box.setSelectionRange(start + selectStart, start + selectEnd);
}

/** Type text at the caret (over the selection), the caret after it. */
export function insertText(box, text) {
  replaceRange(box, box.selectionStart, box.selectionEnd, text);
}

/** Put before/after around the selection, or take them off if they are already there. With
 * nothing selected, a placeholder goes between them, selected, to be typed over. Spaces at
 * the ends of a selection stay outside: "**word **" would not be bold. */
export function wrap(box, before, after, placeholder) {
  const { selectionStart: start, selectionEnd: end, value } = box;
  const selected = value.slice(start, end);
  const around = value.slice(start - before.length, start) === before
    && value.slice(end, end + after.length) === after;
  // *x* inside **x**: the single marks belong to bold; wrap again (bold italic).
  const doubled = before.length === 1 && value[start - before.length - 1] === before
    && value[end + after.length] === after;
  if (selected && around && !doubled) {
    replaceRange(box, start - before.length, end + after.length, selected, 0, selected.length);
    return;
  }
  const lead = selected.match(/^\s*/)[0];
  const rest = selected.slice(lead.length);
  const trail = rest.match(/\s*$/)[0];
  const inner = rest.slice(0, rest.length - trail.length) || placeholder;
  const from = lead.length + before.length;
  replaceRange(box, start, end, `${lead}${before}${inner}${after}${trail}`, from, from + inner.length);
}

/** Inline code; a selection holding backticks needs a longer fence. */
export function wrapCode(box, placeholder) {
  const selected = box.value.slice(box.selectionStart, box.selectionEnd);
  if (selected.includes("`")) wrap(box, "`` ", " ``", placeholder);
  else wrap(box, "`", "`", placeholder);
}

export function colour(box, name, placeholder) {
  wrap(box, `{${name}}`, `{/${name}}`, placeholder);
}

const LINE_PREFIXES = {
  bullets: { add: () => "- ", found: /^[-*+] / },
  numbers: { add: (index) => `${index + 1}. `, found: /^\d{1,9}[.)] / },
  quote: { add: () => "> ", found: /^> ?/ },
};

/** Start each selected line (or the caret's line) with a bullet, a number or a quote mark;
 * if every one already has it, take it off. */
export function prefixLines(box, kind) {
  const { add, found } = LINE_PREFIXES[kind];
  const { selectionStart: start, value } = box;
  let end = box.selectionEnd;
  if (end > start && value[end - 1] === "\n") end -= 1;
  const lineStart = value.lastIndexOf("\n", start - 1) + 1;
  const next = value.indexOf("\n", end);
  const lineEnd = next === -1 ? value.length : next;
  const lines = value.slice(lineStart, lineEnd).split("\n");
  const filled = lines.filter((line) => line.trim());
  const remove = filled.length > 0 && filled.every((line) => found.test(line));
  let number = 0;
  const changed = lines.map((line) => {
    if (remove) return line.replace(found, "");
    if (!line.trim() && lines.length > 1) return line;
    const prefix = add(number);
    number += 1;
    return prefix + line.replace(found, "");
  });
  const text = changed.join("\n");
  if (lines.length === 1 && !remove) {
    // The caret stays where it was in the line, moved by the prefix.
    const shift = text.length - lines[0].length;
    replaceRange(box, lineStart, lineEnd, text, start - lineStart + shift, box.selectionEnd - lineStart + shift);
  } else {
    replaceRange(box, lineStart, lineEnd, text, 0, text.length);
  }
}

/** An address people type ("www.x.cn", "https://…") as a link target, or null. */
export function linkTarget(typed) {
  let url = typed.trim().replace(/[()<> ]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  if (/^www\./i.test(url)) url = `https://${url}`;
  if (!/^https?:\/\/[^\s/]+\S*$/i.test(url) && !/^mailto:\S+@\S+$/i.test(url)) return null;
  return url;
}

/** [text](url) over the selection (or over `range`, the selection when the dialog opened). */
export function link(box, url, range = null) {
  const start = range ? range.start : box.selectionStart;
  const end = range ? range.end : box.selectionEnd;
  const selected = box.value.slice(start, end).trim();
  const text = (selected || url).replace(/([[\]])/g, "\\$1");
  replaceRange(box, start, end, `[${text}](${url})`);
}
