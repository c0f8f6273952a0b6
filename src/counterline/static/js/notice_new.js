// The publishing form (templates/notices/new.html). Server contract: POST /api/v1/notices
// {"title", "body", "audience": {"all", "branch_ids", "roles", "user_ids"}, "effective_at",
// "due_at", "quiz": {"questions": [{"kind": "single"|"true_false", "prompt", "options",
// "correct", "explanation"}], "pass_mark"} | null, "attachment_ids": [upload id]} → 201 {"id",
// "audience_size"}; then the notice's compliance page opens. People are picked from GET
// /api/v1/users ({"users": [{"id", "username", "display_name", "branch_name"...}]}). Pictures
// and files go up first, as in the room composer (attachments_tray.js: POST /api/v1/uploads,
// at most boot.max_upload_bytes each), and are removed from the tray before publishing.
//
// boot.mode "revise" (templates/notices/new.html with a draft, /notices/{id}/revise): the form
// starts from boot.draft (notices/drafts.py: {"id", "title", "body", "due_at", "quiz": as
// above, right answers included, or null, "attachments": [as an upload]}), has no title,
// audience or effective date, and posts POST /api/v1/notices/{id}/revisions {"body",
// "changes", "requires_ack", "quiz", "attachment_ids", "due_at" only when it was changed} →
// 201 {"id", "revision"...}; then the notice's page opens.

import { makeApi } from "./api.js";
import { directory } from "./directory.js";
import { AttachmentTray } from "./attachments_tray.js";

const boot = JSON.parse(document.getElementById("boot").textContent);
const { strings } = boot;
const revising = boot.mode === "revise";
const draft = revising ? boot.draft : null;
const api = makeApi(boot.csrf_token, strings.error);
const form = document.getElementById("notice-form");
const errorBox = document.getElementById("notice-error");
const questionsList = document.getElementById("quiz-questions");
const passLabel = document.getElementById("quiz-pass-label");
const chosenList = document.getElementById("audience-chosen");
const personInput = document.getElementById("audience-person");
const peopleList = document.getElementById("audience-people");
const chosen = new Map(); // user id → label
let people = [];
let questionCount = 0;
const tray = new AttachmentTray({
  list: document.getElementById("notice-tray"),
  fileInput: document.getElementById("notice-file"),
  dropZone: form,
  box: form.elements.body,
  csrfToken: boot.csrf_token,
  maxBytes: boot.max_upload_bytes,
  strings,
  onChange: () => { errorBox.hidden = true; },
});

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function labelled(text, control) {
  const label = el("label", "quiz-field");
  label.append(text, " ", control);
  return label;
}

function personLabel(user) {
  return `${user.display_name} (${user.username}${user.branch_name ? ` · ${user.branch_name}` : ""})`;
}

async function loadPeople() {
  try {
    people = await directory(api);
  } catch {
    people = [];
  }
  for (const user of people) {
    const option = document.createElement("option");
    option.value = personLabel(user);
    peopleList.append(option);
  }
}

function renderChosen() {
  chosenList.replaceChildren();
  for (const [id, label] of chosen) {
    const item = el("li", "notice-chip");
    const remove = el("button", "notice-chip-remove", "×");
    remove.type = "button";
    remove.setAttribute("aria-label", `${strings.notice_remove} ${label}`);
    remove.addEventListener("click", () => { chosen.delete(id); renderChosen(); });
    item.append(label, " ", remove);
    chosenList.append(item);
  }
}

function addPerson() {
  const typed = personInput.value.trim();
  if (!typed) return;
  const user = people.find((u) => personLabel(u) === typed || u.username === typed || u.display_name === typed);
  if (!user) {
    errorBox.textContent = strings.notice_no_person;
    errorBox.hidden = false;
    return;
  }
  errorBox.hidden = true;
  chosen.set(user.id, personLabel(user));
  personInput.value = "";
  renderChosen();
}

function optionRow(list, name, index, text = "", checked = index === 0) {
  const row = el("li", "quiz-option-row");
  const correct = document.createElement("input");
  correct.type = "radio";
  correct.name = name;
  correct.value = String(index);
  correct.className = "quiz-correct";
  correct.setAttribute("aria-label", strings.notice_mark_correct);
  correct.checked = checked;
  const input = document.createElement("input");
  input.className = "quiz-option-text";
  input.maxLength = 200;
  input.value = text;
  input.setAttribute("aria-label", `${strings.notice_option} ${index + 1}`);
  row.append(correct, " ", input);
  list.append(row);
}

// A new blank question, or (revising) one of the draft's: kind, prompt, options, right answer
// and explanation as they are.
function addQuestion(given = null) {
  questionCount += 1;
  const number = questionCount;
  const item = el("li", "quiz-builder-question");
  item.dataset.number = String(number);
  const kind = document.createElement("select");
  kind.className = "quiz-kind";
  kind.append(new Option(strings.notice_single, "single"), new Option(strings.notice_true_false, "true_false"));
  const prompt = document.createElement("input");
  prompt.className = "quiz-prompt";
  prompt.maxLength = 1000;
  const options = el("ol", "quiz-options");
  const name = `correct-${number}`;
  const isSingle = !given || given.kind !== "true_false";
  const texts = given && isSingle ? given.options : ["", "", ""];
  // The right answer among the options, and between true and false (each 0 by default).
  const [rightOption, rightTruth] = isSingle ? [given ? given.correct : 0, 0] : [0, given.correct];
  texts.forEach((text, index) => optionRow(options, name, index, text, index === rightOption));
  const addOption = el("button", "quiz-add-option", strings.notice_add_option);
  addOption.type = "button";
  addOption.addEventListener("click", () => {
    if (options.children.length < 6) optionRow(options, name, options.children.length);
  });
  const truth = el("div", "quiz-truth");
  truth.hidden = true;
  for (const [value, text] of [["0", strings.notice_true], ["1", strings.notice_false]]) {
    const radio = document.createElement("input");
    radio.type = "radio";
    radio.name = `truth-${number}`;
    radio.value = value;
    radio.checked = value === String(rightTruth);
    const label = el("label");
    label.append(radio, " ", text);
    truth.append(label);
  }
  kind.addEventListener("change", () => {
    const isTruth = kind.value === "true_false";
    truth.hidden = !isTruth;
    options.hidden = isTruth;
    addOption.hidden = isTruth;
  });
  const explanation = document.createElement("textarea");
  explanation.className = "quiz-explanation-input";
  explanation.rows = 2;
  explanation.maxLength = 2000;
  const remove = el("button", "quiz-remove", strings.notice_remove_question);
  remove.type = "button";
  remove.addEventListener("click", () => { item.remove(); passLabel.hidden = !questionsList.children.length; });
  if (given) {
    kind.value = given.kind;
    prompt.value = given.prompt;
    explanation.value = given.explanation;
    truth.hidden = isSingle;
    options.hidden = !isSingle;
    addOption.hidden = !isSingle;
  }
  item.append(
    labelled(strings.notice_question_kind, kind),
    labelled(strings.notice_question, prompt),
    options, addOption, truth,
    labelled(strings.notice_explanation, explanation),
    remove,
  );
  questionsList.append(item);
  passLabel.hidden = false;
  if (!given) prompt.focus();
}

function quiz() {
  const items = Array.from(questionsList.children);
  if (!items.length) return null;
  const questions = items.map((item) => {
    const kind = item.querySelector(".quiz-kind").value;
    const question = {
      kind,
      prompt: item.querySelector(".quiz-prompt").value.trim(),
      explanation: item.querySelector(".quiz-explanation-input").value.trim(),
      options: [],
      correct: 0,
    };
    if (kind === "true_false") {
      question.correct = Number(item.querySelector(".quiz-truth input:checked").value);
    } else {
      const rows = Array.from(item.querySelectorAll(".quiz-option-row"))
        .filter((row) => row.querySelector(".quiz-option-text").value.trim());
      question.options = rows.map((row) => row.querySelector(".quiz-option-text").value.trim());
      question.correct = Math.max(0, rows.findIndex((row) => row.querySelector(".quiz-correct").checked));
    }
    return question;
  });
  return { questions, pass_mark: Number(document.getElementById("quiz-pass").value) || 100 };
}

function isoOf(input) {
  return input.value ? new Date(input.value).toISOString() : null;
}

// An ISO time as a datetime-local input shows it: the browser's local time, to the minute.
function localValue(iso) {
  const date = new Date(iso);
  const pad = (number) => String(number).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`
    + `T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

function prefill() {
  form.elements.body.value = draft.body;
  document.getElementById("notice-due").value = localValue(draft.due_at);
  if (draft.quiz) {
    for (const question of draft.quiz.questions) addQuestion(question);
    document.getElementById("quiz-pass").value = String(draft.quiz.pass_mark);
  }
  tray.restore(draft.attachments);
}

function revision(common) {
  const changes = form.elements.changes;
  if (!changes.value.trim()) {
    errorBox.textContent = strings.notice_need_changes;
    errorBox.hidden = false;
    changes.focus();
    return null;
  }
  const body = {
    ...common,
    changes: changes.value.trim(),
    requires_ack: document.getElementById("notice-requires-ack").checked,
  };
  // The due date goes only when it was changed: sending it schedules its reminders again.
  if (document.getElementById("notice-due").value !== localValue(draft.due_at)) {
    body.due_at = isoOf(document.getElementById("notice-due"));
  }
  return body;
}

async function publish(event) {
  event.preventDefault();
  errorBox.hidden = true;
  const due = document.getElementById("notice-due");
  if (!due.value) {
    errorBox.textContent = strings.notice_need_due;
    errorBox.hidden = false;
    due.focus();
    return;
  }
  if (tray.busy) {
    errorBox.textContent = strings.upload_wait;
    errorBox.hidden = false;
    return;
  }
  const common = {
    body: form.elements.body.value,
    quiz: quiz(),
    attachment_ids: tray.uploads.map((upload) => upload.id),
  };
  const body = revising ? revision(common) : {
    ...common,
    title: form.elements.title.value.trim(),
    audience: {
      all: document.getElementById("audience-all").checked,
      branch_ids: Array.from(form.querySelectorAll("input[name=branch]:checked"), (i) => Number(i.value)),
      roles: Array.from(form.querySelectorAll("input[name=role]:checked"), (i) => i.value),
      user_ids: Array.from(chosen.keys()),
    },
    due_at: isoOf(due),
  };
  if (!body) return;
  const effective = revising ? null : isoOf(document.getElementById("notice-effective"));
  if (effective) body.effective_at = effective;
  const button = document.getElementById("notice-publish");
  button.disabled = true;
  try {
    if (revising) {
      await api.post(`/notices/${draft.id}/revisions`, body);
      window.location.assign(`/notices/${draft.id}`);
    } else {
      const created = await api.post("/notices", body);
      window.location.assign(`/notices/${created.id}/compliance`);
    }
  } catch (error) {
    errorBox.textContent = error.message;
    errorBox.hidden = false;
    button.disabled = false;
  }
}

document.getElementById("quiz-add").addEventListener("click", () => addQuestion());
tray.attach();
document.getElementById("notice-attach").addEventListener("click", () => tray.pick());
form.addEventListener("submit", publish);
if (revising) {
  prefill();
} else {
  document.getElementById("audience-person-add").addEventListener("click", addPerson);
  personInput.addEventListener("keydown", (event) => {
    if (event.key === "Enter") { event.preventDefault(); addPerson(); }
  });
  loadPeople();
}
