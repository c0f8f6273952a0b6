// Server contract: POST /api/v1/rooms/{id}/messages {"body","client_id"} answers 201 (stored)
// or 200 (a retry of a stored one) with the message, or 4xx {"error"} that we show as is.
// The message shows at once as "sending" (kept by its client_id in this tab only) until the
// answer replaces it (MessageList.settle); a network failure, 429 (overloaded, Retry-After) or
// 5xx retries with the same client_id, which the server stores at most once. Enter sends, Shift+Enter adds a line, and
// an Enter that confirms an input-method (IME) composition only confirms it.

import { newClientId } from "./api.js";

const RETRY_DELAYS_MS = [500, 1000, 2000, 4000, 8000, 15000];
const COUNT_FROM = 9000;
const MAX_LENGTH = 10000;
const IME_GRACE_MS = 60;

export class Composer {
  constructor({ form, input, errorBox, counter, roomId, me, api, messages, onSent, strings }) {
    Object.assign(this, { form, input, errorBox, counter, roomId, me, api, messages, onSent, strings });
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
    const body = this.input.value;
    if (!body.trim()) return;
    const message = {
      client_id: newClientId(),
      body,
      author: this.me,
      branch: { id: this.me.branch_id, name: this.me.branch_name },
    };
    this.messages.addPending(message);
    this.messages.markDays();
    this.messages.scrollToEnd();
    this.input.value = "";
    this.changed();
    this.deliver(message, 0);
  }

  async deliver(message, attempt) {
    this.waiting.delete(message.client_id);
    try {
      const stored = await this.api.post(`/rooms/${this.roomId}/messages`, {
        body: message.body,
        client_id: message.client_id,
      });
      this.messages.settle(message.client_id, stored);
      this.onSent(stored);
    } catch (error) {
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
