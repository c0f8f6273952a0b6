// A notice's page (templates/notices/notice.html): "I have read and understood", or the quiz.
// Server contract: POST /api/v1/notices/{id}/acknowledgement {"answers": [option index per
// question] | null} → {"status", "passed", "score", "correct", "total", "pass_mark", "wrong":
// [{"question_id", "position", "chosen", "explanation"}], "attempts"}. After a failed attempt
// the wrong questions are marked with their explanations and the form stays open for a retry.
// Pictures (notices/_attachments.html, a.picture[data-attachment-id]) open full size in the
// messages' lightbox, from boot.attachments (NoticeOut.attachments: {id, name, url, width,
// height...}); files are plain download links.

import { makeApi } from "./api.js";
import { Lightbox } from "./message_content.js";

const boot = JSON.parse(document.getElementById("boot").textContent);
const { strings } = boot;
const api = makeApi(boot.csrf_token, strings.error);
const form = document.getElementById("notice-ack");
const result = document.getElementById("notice-result");
const submit = document.getElementById("notice-submit");

function fill(template, values) {
  return template.replace(/%\((\w+)\)s/g, (_, name) => String(values[name] ?? ""));
}

function questions() {
  return Array.from(form.querySelectorAll(".quiz-question"));
}

function clearMarks() {
  for (const question of questions()) {
    question.classList.remove("quiz-wrong");
    const note = question.querySelector(".quiz-explanation");
    note.hidden = true;
    note.textContent = "";
  }
}

function showWrong(wrong) {
  for (const item of wrong) {
    const question = form.querySelector(`.quiz-question[data-question-id="${item.question_id}"]`);
    if (!question) continue;
    question.classList.add("quiz-wrong");
    const note = question.querySelector(".quiz-explanation");
    note.textContent = `${strings.notice_wrong} ${item.explanation || ""}`.trim();
    note.hidden = false;
  }
}

async function send(event) {
  event.preventDefault();
  const asked = questions();
  let answers = null;
  if (asked.length) {
    answers = [];
    for (const question of asked) {
      const chosen = question.querySelector("input[type=radio]:checked");
      if (!chosen) {
        result.textContent = strings.notice_answer_all;
        question.querySelector("input[type=radio]").focus();
        return;
      }
      answers.push(Number(chosen.value));
    }
  }
  submit.disabled = true;
  clearMarks();
  try {
    const answer = await api.post(`/notices/${boot.notice_id}/acknowledgement`, { answers });
    if (answer.passed) {
      result.textContent = answer.score === null ? strings.notice_done
        : fill(strings.notice_passed, { score: answer.score });
      for (const input of form.querySelectorAll("input")) input.disabled = true;
      submit.hidden = true;
      form.classList.add("notice-complete");
    } else {
      result.textContent = fill(strings.notice_failed, {
        score: answer.score, mark: answer.pass_mark, correct: answer.correct, total: answer.total,
      });
      showWrong(answer.wrong);
      submit.disabled = false;
    }
  } catch (error) {
    result.textContent = error.message;
    submit.disabled = false;
  }
}

if (form) form.addEventListener("submit", send);

const shown = document.getElementById("notice-attachments");
if (shown) {
  const lightbox = new Lightbox(strings);
  const byId = new Map((boot.attachments || []).map((attachment) => [String(attachment.id), attachment]));
  shown.addEventListener("click", (event) => {
    const link = event.target.closest("a.picture");
    if (!link || event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey) return;
    const attachment = byId.get(link.dataset.attachmentId);
    if (!attachment) return;
    event.preventDefault();
    lightbox.open(attachment, link);
  });
}
