// Server contract: POST /api/v1/rooms/{id}/messages {"body","client_id","attachments"?: [upload
// ids]} answers 201 (stored) or 200 (a retry of a stored one) with the message, or 4xx
// {"error"} that we show as is. The body may be empty when files go with it.
// The message shows at once as "sending" (kept by its client_id in this tab only) until the
// answer replaces it (MessageList.settle); a network failure, 429 (overloaded, Retry-After) or
// 5xx retries with the same client_id, which the server stores at most once. On a PC Enter
// sends and Shift+Enter adds a line; on a touch screen Enter adds a line and the Send button
// sends (Ctrl/⌘+Enter sends everywhere). An Enter that confirms an input-method (IME)
// composition only confirms it. The toolbar (toolbar.js, emoji.js), the preview (preview.js)
// and the attachments (attachments_tray.js) are built here into #composer-tools.

import { newClientId } from "./api.js";
import { AttachmentTray } from "./attachments_tray.js";
import { EmojiPicker } from "./emoji.js";
import { Preview } from "./preview.js";
import { Toolbar } from "./toolbar.js";

const RETRY_DELAYS_MS = [500, 1000, 2000, 4000, 8000, 15000];
const COUNT_FROM = 9000;
const MAX_LENGTH = 10000;
const IME_GRACE_MS = 60;
// A phone or tablet: Enter makes a new line there, the Send button sends.
const TOUCH = window.matchMedia("(pointer: coarse)");

export class Composer {
  constructor({
    form, input, errorBox, counter, roomId, me, api, messages, onSent, strings,
    tools, csrfToken, maxUploadBytes, mentionAllTokens = [],
  }) {
    Object.assign(this, {
      form, input, errorBox, counter, roomId, me, api, messages, onSent, strings,
      tools, csrfToken, maxUploadBytes,
    });
    // "@all" and its other names (boot.mention_all_tokens, from messages/mentions.py).
    this.mentionsAll = (body) => mentionAllTokens.some(
      (token) => body.toLowerCase().includes(`@${token.toLowerCase()}`));
    this.composing = false;
    this.compositionEndedAt = 0;
    this.waiting = new Map();
  }

  attach() {
    this.input.addEventListener("compositionstart", () => { this.composing = true; });
    this.input.addEventListener("compositionend", () => {
      this.composing = false;
      this.compositionEndedAt = performance.now();
    });
    this.input.addEventListener("keydown", (event) => this.keydown(event));
    this.input.addEventListener("input", () => this.changed());
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.send();
    });
    // Tapping Send leaves the caret (and a phone's keyboard) in the message box.
    this.form.querySelector(".send-button").addEventListener("mousedown", (event) => event.preventDefault());
    this.buildTools();
    this.fitToDevice();
    TOUCH.addEventListener?.("change", () => this.fitToDevice());
  }

  buildTools() {
    const make = (tag, id, className) => {
      const node = document.createElement(tag);
      node.id = id;
      node.className = className;
      return node;
    };
    this.toolbar = new Toolbar({ container: this.tools, box: this.input, strings: this.strings });
    const buttons = this.toolbar.build();
    const pane = make("div", "composer-preview", "composer-preview");
    const tray = make("ul", "composer-tray", "composer-tray");
    tray.hidden = true;
    const fileInput = make("input", "composer-file", "visually-hidden");
    fileInput.type = "file";
    fileInput.multiple = true;
    fileInput.tabIndex = -1;
    fileInput.setAttribute("aria-hidden", "true");
    fileInput.setAttribute("aria-label", this.strings.fmt_attach);
    const dropHint = make("p", "composer-drop-hint", "drop-hint");
    dropHint.textContent = this.strings.upload_drop;
    dropHint.setAttribute("aria-hidden", "true");
    this.tools.after(pane, tray);
    this.form.append(fileInput, dropHint);

    new EmojiPicker({
      button: buttons.emoji, container: this.tools, box: this.input, strings: this.strings,
    }).build();
    this.preview = new Preview({
      button: buttons.preview, pane, box: this.input, api: this.api, strings: this.strings,
    });
    this.preview.attach();
    this.tray = new AttachmentTray({
      list: tray,
      fileInput,
      dropZone: this.form,
      box: this.input,
      csrfToken: this.csrfToken,
      maxBytes: this.maxUploadBytes,
      strings: this.strings,
      onChange: () => this.showError(""),
    });
    this.tray.attach();
    buttons.attach.addEventListener("click", () => this.tray.pick());
  }

  /** Enter's job, the keyboard's Enter key label and the hint follow the kind of screen. */
  fitToDevice() {
    const hint = this.form.querySelector(".hint-keys");
    this.pcHint ??= hint ? hint.textContent : "";
    const text = TOUCH.matches ? this.strings.hint_touch : this.pcHint;
    if (hint) hint.textContent = text;
    this.input.enterKeyHint = TOUCH.matches ? "enter" : "send";
    this.toolbar.setEnterHelp(text);
  }

  /** Is this Enter part of an IME composition (choosing characters), not a send? */
  isImeEnter(event) {
    // keyCode 229: the IME handles the key (Chrome, Edge); isComposing: standard flag;
    // Safari fires keydown just after compositionend, hence the short grace period.
    return event.isComposing || event.keyCode === 229 || this.composing
      || performance.now() - this.compositionEndedAt < IME_GRACE_MS;
  }

  keydown(event) {
    if (event.key !== "Enter" || event.shiftKey || event.altKey) return;
    if (this.isImeEnter(event)) return;
    if (TOUCH.matches && !event.ctrlKey && !event.metaKey) return; // a new line
    event.preventDefault();
    this.send();
  }

  changed() {
    this.showError("");
    this.autosize();
    const length = this.input.value.length;
    this.counter.textContent = length >= COUNT_FROM ? `${length} / ${MAX_LENGTH}` : "";
    this.counter.classList.toggle("over", length > MAX_LENGTH);
  }

  autosize() {
    this.input.style.height = "auto";
    this.input.style.height = `${this.input.scrollHeight + 2}px`;
  }

  showError(message) {
    this.errorBox.textContent = message;
    this.errorBox.hidden = !message;
  }

  send() {
    if (this.tray.busy) {
      this.showError(this.strings.upload_wait);
      return;
    }
    const body = this.input.value;
    const attachments = this.tray.uploads;
    if (!body.trim() && !attachments.length) return;
    const message = {
      client_id: newClientId(),
      body,
      attachments,
      author: this.me,
      branch: { id: this.me.branch_id, name: this.me.branch_name },
    };
    this.messages.addPending(message);
    this.messages.markDays();
    this.messages.scrollToEnd();
    this.input.value = "";
    this.tray.clear();
    this.changed();
    this.preview.changed();
    this.input.focus();
    this.deliver(message, 0);
  }

  async deliver(message, attempt) {
    this.waiting.delete(message.client_id);
    try {
      const payload = { body: message.body, client_id: message.client_id };
      if (message.attachments.length) payload.attachments = message.attachments.map((upload) => upload.id);
      if (message.confirmAll) payload.confirm_all = true;
      const stored = await this.api.post(`/rooms/${this.roomId}/messages`, payload);
      this.messages.settle(message.client_id, stored);
      this.onSent(stored);
    } catch (error) {
      // 409: "@all" in a big room must be confirmed (messages/mentions.py); ask, then resend.
      // Other 409s (a reused client id, a deleted message) are refusals, shown as such.
      const asksToConfirm = error.status === 409 && !message.confirmAll && this.mentionsAll(message.body);
      if (asksToConfirm && window.confirm(error.message)) {
        this.deliver({ ...message, confirmAll: true }, attempt);
        return;
      }
      if (!error.transient) {
        this.rejected(message, error.message);
        return;
      }
      this.messages.addPending({ ...message, failed: true });
      const backoff = RETRY_DELAYS_MS[Math.min(attempt, RETRY_DELAYS_MS.length - 1)];
      const delay = Math.max(backoff, (error.retryAfterSeconds || 0) * 1000);
      const timer = setTimeout(() => this.deliver(message, attempt + 1), delay);
      this.waiting.set(message.client_id, { message, attempt, timer });
    }
  }

  /** The server refused the message: take it back into the box and say why. */
  rejected(message, reason) {
    this.messages.dropPending(message.client_id);
    if (!this.input.value) {
      this.input.value = message.body;
      this.changed();
    }
    if (!this.tray.uploads.length) this.tray.restore(message.attachments);
    this.showError(reason);
    this.input.focus();
  }

  /** The connection is back: retry waiting messages now instead of after their delay. */
  retryNow() {
    for (const { message, attempt, timer } of [...this.waiting.values()]) {
      clearTimeout(timer);
      this.deliver(message, attempt + 1);
    }
  }
}
