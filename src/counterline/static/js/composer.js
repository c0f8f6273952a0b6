// Server contract: POST /api/v1/rooms/{id}/messages {"body","client_id"} answers
// 201 (stored) or 200 (a retry of a stored one) with the message, or 4xx {"error"}.
// Enter sends, Shift+Enter adds a line; Enter that ends an IME composition never sends.

import { ApiError, newClientId } from "./api.js";

const MAX_LENGTH = 10000;
const RETRY_DELAYS_MS = [1000, 2000, 4000, 8000, 15000];

export class Composer {
  constructor({ form, input, errorBox, roomId, me, api, messages, strings }) {
    Object.assign(this, { form, input, errorBox, roomId, me, api, messages, strings });
    this.composing = false;
    this.endedCompositionAt = 0;
  }

  attach() {
    this.input.addEventListener("compositionstart", () => { this.composing = true; });
    this.input.addEventListener("compositionend", () => {
      this.composing = false;
      this.endedCompositionAt = Date.now();
    });
    this.input.addEventListener("keydown", (event) => this.keydown(event));
    this.input.addEventListener("input", () => this.showError(""));
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.send();
    });
  }

  keydown(event) {
    if (event.key !== "Enter" || event.shiftKey) return;
    // keyCode 229 and isComposing: the Enter belongs to the input method.
    // Some browsers fire keydown just after compositionend: ignore that too.
    const imeEnter = event.isComposing || event.keyCode === 229 || this.composing;
    if (imeEnter || Date.now() - this.endedCompositionAt < 50) return;
    event.preventDefault();
    this.send();
  }

  showError(message) {
    this.errorBox.textContent = message;
    this.errorBox.hidden = !message;
  }

  send() {
    const body = this.input.value;
    if (!body.trim()) return;
    if (body.length > MAX_LENGTH) {
      this.showError(this.strings.too_long || this.strings.error);
      return;
    }
    const message = {
      client_id: newClientId(),
      body,
      author: this.me,
      branch: { id: this.me.branch_id, name: this.me.branch_name },
      pending: true,
    };
    this.messages.addPending(message);
    this.input.value = "";
    this.deliver(message, 0);
  }

  async deliver(message, attempt) {
    try {
      const stored = await this.api.post(`/rooms/${this.roomId}/messages`, {
        body: message.body,
        client_id: message.client_id,
      });
      this.messages.add(stored);
    } catch (error) {
      if (error instanceof ApiError && error.status >= 400 && error.status < 500) {
        document.getElementById(`m-${message.client_id}`)?.remove();
        this.input.value = message.body;
        this.showError(error.message);
        return;
      }
      // Network failure or server error: retry with the same client id (idempotent).
      this.messages.addPending({ ...message, failed: true });
      const delay = RETRY_DELAYS_MS[Math.min(attempt, RETRY_DELAYS_MS.length - 1)];
      setTimeout(() => this.deliver(message, attempt + 1), delay);
    }
  }
}
