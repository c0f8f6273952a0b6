// Questions in the room (faq/routes.py): GET /api/v1/rooms/{id}/questions answers
// {questions: [{message_id, state: "open" | "answered", preview, marked_by, marked_by_id,
// answer_id, faq_id}], can_accept}; POST and DELETE /api/v1/messages/{id}/question mark and
// unmark; POST /api/v1/messages/{id}/question/answer {answer_id, topic} accepts an answer
// (trainers and administrators) and answers the FAQ entry {id, url}. Stream frames
// "question.changed" {room_id, message_id, question | null} keep every tab's marks current;
// after a reconnect ("ready") the list is read again. Adds to the message menu through
// MessageActions.extend. Whether the viewer marked a question: marked_by_id against me.id.

import { dialogButtons, errorLine } from "./dialog_parts.js";

export class Questions {
  constructor({ api, roomId, me, strings, actions, messages, announce }) {
    Object.assign(this, { api, roomId, me, strings, actions, messages, announce });
    this.byMessage = new Map(); // question message id -> question
    this.answers = new Map(); // answer message id -> question
    this.canAccept = false;
    this.dialog = null;
  }

  attach() {
    this.actions.extend(this);
    window.addEventListener("counterline:stream", (event) => this.onFrame(event.detail));
    this.load();
  }

  async load() {
    try {
      const data = await this.api.get(`/rooms/${this.roomId}/questions`);
      this.canAccept = Boolean(data.can_accept);
      this.byMessage.clear();
      for (const question of data.questions) this.byMessage.set(question.message_id, question);
      this.redrawAll();
    } catch {
      // marks are an aid; the next reconnect reads them again
    }
  }

  onFrame(frame) {
    if (!frame) return;
    if (frame.type === "ready") this.load();
    if (frame.type !== "question.changed" || frame.room_id !== this.roomId) return;
    if (frame.question) this.byMessage.set(frame.message_id, frame.question);
    else this.byMessage.delete(frame.message_id);
    this.redrawAll();
  }

  redrawAll() {
    this.answers.clear();
    for (const question of this.byMessage.values()) {
      if (question.answer_id) this.answers.set(question.answer_id, question);
    }
    for (const row of document.querySelectorAll("#messages .message[data-message-id]")) {
      const message = this.messages.message(row.dataset.messageId);
      if (message) this.actions.decorate(row, message);
    }
  }

  decorate(row, message) {
    const question = this.byMessage.get(message.id);
    const answered = this.answers.get(message.id);
    let mark = row.querySelector(".question-mark");
    if (!question && !answered) {
      mark?.remove();
      return;
    }
    const faqId = question?.faq_id ?? answered?.faq_id;
    const wanted = faqId ? "a" : "span";
    if (!mark || mark.localName !== wanted) {
      mark?.remove();
      mark = document.createElement(wanted);
      mark.className = "question-mark";
      row.querySelector(".meta").append(mark);
    }
    if (faqId) mark.href = `/faq/${faqId}`;
    mark.classList.toggle("answered", Boolean(question?.answer_id || answered));
    mark.classList.toggle("answer-mark", Boolean(answered && !question));
    if (question) {
      mark.textContent = question.answer_id ? this.strings.question_answered : this.strings.question_open;
    } else {
      mark.textContent = this.strings.accepted_answer;
    }
  }

  itemsFor(message) {
    if (message.deleted_at || message.id === undefined) return [];
    const mine = message.author.id === this.me.id;
    const question = this.byMessage.get(message.id);
    const items = [];
    if (!question && (mine || this.canAccept)) {
      items.push({ label: this.strings.mark_question, action: () => this.mark(message) });
    }
    if (question && (mine || this.canAccept || question.marked_by_id === this.me.id)) {
      items.push({ label: this.strings.unmark_question, action: () => this.unmark(message) });
    }
    if (this.canAccept && !question && this.openQuestions(message).length > 0) {
      items.push({ label: this.strings.accept_answer, action: (row, toggle) => this.chooseQuestion(message, toggle) });
    }
    return items;
  }

  openQuestions(answer) {
    return [...this.byMessage.values()]
      .filter((question) => question.message_id !== answer.id && !question.answer_id)
      .sort((a, b) => b.message_id - a.message_id);
  }

  async mark(message) {
    try {
      const question = await this.api.post(`/messages/${message.id}/question`);
      this.byMessage.set(message.id, question);
      this.redrawAll();
      this.announce(this.strings.question_marked);
    } catch (failure) {
      this.announce(failure.message);
    }
  }

  async unmark(message) {
    try {
      await this.api.delete(`/messages/${message.id}/question`);
      this.byMessage.delete(message.id);
      this.redrawAll();
      this.announce(this.strings.question_unmarked);
    } catch (failure) {
      this.announce(failure.message);
    }
  }

  // Which question does this message answer? (the newest open one is chosen first)
  chooseQuestion(answer, toggle) {
    const dialog = this.dialog || this.buildDialog();
    dialog.answerId = answer.id;
    dialog.returnTo = toggle;
    dialog.select.replaceChildren(...this.openQuestions(answer).map((question) => {
      const option = document.createElement("option");
      option.value = String(question.message_id);
      option.textContent = question.preview;
      return option;
    }));
    dialog.error.hidden = true;
    dialog.element.showModal();
    dialog.select.focus();
  }

  buildDialog() {
    const element = document.createElement("dialog");
    element.className = "accept-dialog";
    element.setAttribute("aria-labelledby", "accept-title");
    const form = document.createElement("form");
    form.method = "dialog";
    const title = document.createElement("h2");
    title.id = "accept-title";
    title.textContent = this.strings.accept_title;
    const hint = document.createElement("p");
    hint.className = "hint";
    hint.textContent = this.strings.accept_hint;
    const selectLabel = document.createElement("label");
    selectLabel.htmlFor = "accept-question";
    selectLabel.textContent = this.strings.accept_question;
    const select = document.createElement("select");
    select.id = "accept-question";
    const topicLabel = document.createElement("label");
    topicLabel.htmlFor = "accept-topic";
    topicLabel.textContent = this.strings.faq_topic;
    const topic = document.createElement("input");
    topic.id = "accept-topic";
    topic.maxLength = 40;
    const error = errorLine();
    const { buttons, cancel } = dialogButtons(this.strings.cancel, this.strings.accept_submit, {
      type: "submit",
      className: "primary",
    });
    form.append(title, hint, selectLabel, select, topicLabel, topic, error, buttons);
    element.append(form);
    document.body.append(element);
    const dialog = { element, select, topic, error, answerId: null, returnTo: null };
    cancel.addEventListener("click", () => element.close());
    element.addEventListener("close", () => dialog.returnTo?.focus());
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      try {
        const entry = await this.api.post(`/messages/${select.value}/question/answer`, {
          answer_id: dialog.answerId,
          topic: topic.value,
        });
        element.close();
        this.announce(this.strings.answer_accepted.replace("%(question)s", entry.question));
        this.load();
      } catch (failure) {
        error.textContent = failure.message;
        error.hidden = false;
      }
    });
    this.dialog = dialog;
    return dialog;
  }
}
