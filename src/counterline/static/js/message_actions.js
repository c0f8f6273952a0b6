// The "⋯" menu of a message: Edit, Delete and History. Server contract (messages/routes.py):
// PATCH /api/v1/messages/{id} {"body"} answers the updated message; DELETE answers 204;
// GET /api/v1/messages/{id}/history answers {message_id, versions: [{action: "posted" |
// "edited" | "deleted", body, html, editor{display_name}, created_at, client_ip}]}, the
// original first (managers and administrators). Refusals are 4xx {"error"} (translated).
// Authors may edit and delete their own messages within boot.edit_window_seconds of
// posting; boot.edits_any_message (administrators) lifts both limits;
// boot.sees_message_history (managers and administrators) adds History to edited and
// deleted messages. The server decides; this only hides what it would refuse.
// Other modules add to the menu and mark rows through extend() (questions.js): an
// extension's itemsFor(message) gives [{label, action}], its decorate(row, message) draws.

import { dialogButtons, errorLine } from "./dialog_parts.js";

const RECHECK_MS = 30_000;
const IME_GRACE_MS = 80;

export class MessageActions {
  constructor({ api, me, strings, editWindowSeconds, editsAnyMessage, seesHistory, announce, formatTime }) {
    Object.assign(this, { api, me, strings, announce, formatTime });
    this.windowMs = (Number(editWindowSeconds) || 0) * 1000;
    this.editsAny = Boolean(editsAnyMessage);
    this.seesHistory = Boolean(seesHistory);
    this.messages = null; // the MessageList, set by attach()
    this.menu = null;
    this.confirmDialog = null;
    this.historyDialog = null;
    this.extensions = [];
  }

  extend(extension) {
    this.extensions.push(extension);
  }

  extraItems(message) {
    return this.extensions.flatMap((extension) => extension.itemsFor?.(message) ?? []);
  }

  attach(messages) {
    this.messages = messages;
    document.addEventListener("pointerdown", (event) => {
      if (this.menu && !this.menu.contains(event.target)
        && !this.menu.previousElementSibling?.contains(event.target)) this.closeMenu(false);
    });
    // Own messages leave the edit window while the page is open.
    setInterval(() => this.recheckAll(), RECHECK_MS);
  }

  // What may be done to a message now.
  abilities(message) {
    const deleted = Boolean(message.deleted_at);
    const mine = message.author.id === this.me.id;
    const inWindow = Date.now() < Date.parse(message.created_at) + this.windowMs;
    const changes = !deleted && (this.editsAny || (mine && inWindow));
    return {
      edit: changes,
      remove: changes,
      history: this.seesHistory && Boolean(message.edited_at || deleted),
    };
  }

  /** Give a stored row its "⋯" button if anything may be done to it (called on every fill). */
  decorate(row, message) {
    for (const extension of this.extensions) extension.decorate?.(row, message);
    const can = this.abilities(message);
    const any = can.edit || can.remove || can.history || this.extraItems(message).length > 0;
    let toggle = row.querySelector(".actions-toggle");
    if (!any) {
      if (toggle) {
        if (this.menu && row.contains(this.menu)) this.closeMenu(false);
        toggle.parentElement.remove();
      }
      return;
    }
    if (toggle) return;
    const holder = document.createElement("span");
    holder.className = "message-actions";
    toggle = document.createElement("button");
    toggle.type = "button";
    toggle.className = "actions-toggle";
    toggle.setAttribute("aria-haspopup", "menu");
    toggle.setAttribute("aria-expanded", "false");
    toggle.setAttribute(
      "aria-label",
      this.strings.message_actions.replace("%(name)s", message.author.display_name),
    );
    toggle.title = this.strings.message_actions.replace("%(name)s", message.author.display_name);
    toggle.textContent = "⋯";
    toggle.addEventListener("click", () => {
      if (this.menu && holder.contains(this.menu)) this.closeMenu(true);
      else this.openMenu(row, holder, toggle);
    });
    toggle.addEventListener("keydown", (event) => {
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        this.openMenu(row, holder, toggle, event.key === "ArrowUp" ? -1 : 0);
      }
    });
    holder.append(toggle);
    row.querySelector(".meta").append(holder);
  }

  recheckAll() {
    for (const row of document.querySelectorAll("#messages .message[data-message-id]")) {
      const message = this.messages.message(row.dataset.messageId);
      if (message) this.decorate(row, message);
    }
  }

  openMenu(row, holder, toggle, focusIndex = 0) {
    this.closeMenu(false);
    const message = this.messages.message(row.dataset.messageId);
    if (!message) return;
    // The window may have passed since the row was drawn.
    this.decorate(row, message);
    if (!row.contains(toggle)) {
      this.announce(this.strings.edit_window_passed);
      return;
    }
    const can = this.abilities(message);
    const menu = document.createElement("div");
    menu.className = "actions-menu";
    menu.setAttribute("role", "menu");
    menu.setAttribute("aria-label", toggle.getAttribute("aria-label"));
    const item = (label, action, extra = "") => {
      const button = document.createElement("button");
      button.type = "button";
      button.className = `menu-item ${extra}`.trim();
      button.setAttribute("role", "menuitem");
      button.tabIndex = -1;
      button.textContent = label;
      button.addEventListener("click", () => {
        this.closeMenu(false);
        action();
      });
      menu.append(button);
    };
    if (can.edit) item(this.strings.edit, () => this.startEdit(row));
    if (can.history) item(this.strings.history, () => this.showHistory(row, toggle));
    for (const extra of this.extraItems(message)) item(extra.label, () => extra.action(row, toggle));
    if (can.remove) item(this.strings.delete, () => this.confirmDelete(row, toggle), "danger");
    menu.addEventListener("keydown", (event) => this.menuKey(event, menu));
    holder.append(menu);
    this.menu = menu;
    toggle.setAttribute("aria-expanded", "true");
    const items = [...menu.children];
    items.at(focusIndex)?.focus();
  }

  menuKey(event, menu) {
    const items = [...menu.querySelectorAll("[role=menuitem]")];
    const index = items.indexOf(document.activeElement);
    const move = { ArrowDown: index + 1, ArrowUp: index - 1, Home: 0, End: items.length - 1 }[event.key];
    if (move !== undefined) {
      event.preventDefault();
      items[(move + items.length) % items.length].focus();
    } else if (event.key === "Escape") {
      event.preventDefault();
      this.closeMenu(true);
    } else if (event.key === "Tab") {
      this.closeMenu(false);
    }
  }

  closeMenu(refocus) {
    const menu = this.menu;
    if (!menu) return;
    this.menu = null;
    const toggle = menu.parentElement?.querySelector(".actions-toggle");
    menu.remove();
    toggle?.setAttribute("aria-expanded", "false");
    if (refocus) toggle?.focus();
  }

  // Editing in place: Enter or Ctrl+Enter saves, Shift+Enter adds a line, Escape cancels, as
  // in the composer (an Enter that confirms an input-method composition only confirms it).
  startEdit(row) {
    const existing = row.querySelector(".message-editor textarea");
    if (existing) {
      existing.focus();
      return;
    }
    const id = Number(row.dataset.messageId);
    const message = this.messages.message(id);
    const form = document.createElement("form");
    form.className = "message-editor";
    form.noValidate = true;
    const label = document.createElement("label");
    label.className = "visually-hidden";
    label.htmlFor = `edit-${id}`;
    label.textContent = this.strings.edit_message;
    const area = document.createElement("textarea");
    area.id = `edit-${id}`;
    area.value = message.body;
    area.rows = Math.min(12, Math.max(2, message.body.split("\n").length + 1));
    area.setAttribute("enterkeyhint", "done");
    const hint = document.createElement("p");
    hint.className = "hint";
    hint.id = `edit-hint-${id}`;
    hint.textContent = this.strings.edit_hint;
    const error = document.createElement("p");
    error.className = "form-error";
    error.id = `edit-error-${id}`;
    error.setAttribute("role", "alert");
    error.hidden = true;
    area.setAttribute("aria-describedby", `${hint.id} ${error.id}`);
    const buttons = document.createElement("div");
    buttons.className = "editor-buttons";
    const save = document.createElement("button");
    save.type = "submit";
    save.className = "primary";
    save.textContent = this.strings.save;
    const cancel = document.createElement("button");
    cancel.type = "button";
    cancel.textContent = this.strings.cancel;
    buttons.append(save, cancel);
    form.append(label, area, hint, error, buttons);

    let composing = false;
    let composedAt = 0;
    area.addEventListener("compositionstart", () => { composing = true; });
    area.addEventListener("compositionend", () => {
      composing = false;
      composedAt = performance.now();
    });
    const close = () => {
      form.remove();
      row.classList.remove("editing");
      row.querySelector(".actions-toggle")?.focus();
      if (!row.querySelector(".actions-toggle") && row.isConnected) this.messages.list.focus();
    };
    const submit = async () => {
      if (save.disabled) return;
      const body = area.value;
      if (!body.trim()) {
        error.textContent = this.strings.edit_empty;
        error.hidden = false;
        return;
      }
      save.disabled = true;
      try {
        const updated = await this.api.patch(`/messages/${id}`, { body });
        this.messages.update(updated);
        close();
        this.announce(this.strings.message_edited);
      } catch (failure) {
        error.textContent = failure.message;
        error.hidden = false;
      } finally {
        save.disabled = false;
      }
    };
    area.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        event.preventDefault();
        close();
        return;
      }
      if (event.key !== "Enter" || event.shiftKey || event.altKey) return;
      if (event.isComposing || event.keyCode === 229 || composing
        || performance.now() - composedAt < IME_GRACE_MS) return;
      event.preventDefault();
      submit();
    });
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      submit();
    });
    cancel.addEventListener("click", close);
    row.classList.add("editing");
    (row.querySelector(".attachments") || row.querySelector(".fold-toggle")).after(form);
    area.focus();
    area.setSelectionRange(area.value.length, area.value.length);
  }

  confirmDelete(row, toggle) {
    const id = Number(row.dataset.messageId);
    const dialog = this.confirmDialog || this.buildConfirm();
    dialog.returnTo = toggle;
    dialog.messageId = id;
    dialog.error.hidden = true;
    dialog.showModal();
    dialog.cancelButton.focus();
  }

  buildConfirm() {
    const dialog = document.createElement("dialog");
    dialog.className = "confirm-dialog";
    dialog.setAttribute("aria-labelledby", "confirm-delete-title");
    dialog.setAttribute("aria-describedby", "confirm-delete-text");
    const title = document.createElement("h2");
    title.id = "confirm-delete-title";
    title.textContent = this.strings.delete_title;
    const text = document.createElement("p");
    text.id = "confirm-delete-text";
    text.textContent = this.strings.delete_text;
    const error = errorLine();
    const { buttons, cancel, confirm } = dialogButtons(this.strings.cancel, this.strings.delete, {
      className: "danger",
    });
    dialog.append(title, text, error, buttons);
    cancel.addEventListener("click", () => dialog.close());
    confirm.addEventListener("click", async () => {
      confirm.disabled = true;
      try {
        await this.api.delete(`/messages/${dialog.messageId}`);
        // Staff keep it as a tombstone, which the stream brings.
        if (!this.seesHistory) this.messages.remove(dialog.messageId);
        dialog.close();
        this.announce(this.strings.message_deleted);
      } catch (failure) {
        error.textContent = failure.message;
        error.hidden = false;
      } finally {
        confirm.disabled = false;
      }
    });
    dialog.addEventListener("close", () => {
      const back = dialog.returnTo;
      if (back?.isConnected) back.focus();
      else this.messages.list.focus();
    });
    document.body.append(dialog);
    Object.assign(dialog, { error, cancelButton: cancel });
    this.confirmDialog = dialog;
    return dialog;
  }

  async showHistory(row, toggle) {
    const id = Number(row.dataset.messageId);
    const dialog = this.historyDialog || this.buildHistory();
    dialog.returnTo = toggle;
    dialog.list.replaceChildren();
    dialog.status.textContent = this.strings.loading;
    dialog.status.hidden = false;
    dialog.showModal();
    dialog.closeButton.focus();
    try {
      const history = await this.api.get(`/messages/${id}/history`);
      dialog.status.hidden = true;
      for (const version of history.versions) dialog.list.append(this.versionItem(version));
    } catch (failure) {
      dialog.status.textContent = failure.message;
    }
  }

  versionItem(version) {
    const item = document.createElement("li");
    item.className = `version version-${version.action}`;
    const head = document.createElement("p");
    head.className = "version-head";
    const action = document.createElement("strong");
    action.className = "version-action";
    action.textContent = this.strings[`version_${version.action}`] || version.action;
    const who = document.createElement("span");
    who.textContent = version.editor.display_name;
    const when = document.createElement("time");
    when.dateTime = version.created_at;
    when.textContent = this.formatTime(version.created_at);
    const ip = document.createElement("span");
    ip.className = "ip";
    ip.textContent = `${this.strings.ip} ${version.client_ip}`;
    head.append(action, who, when, ip);
    const body = document.createElement("div");
    body.className = "version-body";
    body.innerHTML = version.html; // sanitised on the server (nh3)
    item.append(head, body);
    return item;
  }

  buildHistory() {
    const dialog = document.createElement("dialog");
    dialog.className = "history-dialog";
    dialog.setAttribute("aria-labelledby", "history-title");
    const bar = document.createElement("div");
    bar.className = "dialog-bar";
    const title = document.createElement("h2");
    title.id = "history-title";
    title.textContent = this.strings.history_title;
    const close = document.createElement("button");
    close.type = "button";
    close.className = "dialog-close";
    close.setAttribute("aria-label", this.strings.close);
    close.textContent = "×";
    close.addEventListener("click", () => dialog.close());
    bar.append(title, close);
    const status = document.createElement("p");
    status.className = "muted";
    status.setAttribute("role", "status");
    const list = document.createElement("ol");
    list.className = "versions";
    dialog.append(bar, status, list);
    dialog.addEventListener("close", () => {
      if (dialog.returnTo?.isConnected) dialog.returnTo.focus();
      else this.messages.list.focus();
    });
    document.body.append(dialog);
    Object.assign(dialog, { list, status, closeButton: close });
    this.historyDialog = dialog;
    return dialog;
  }
}
