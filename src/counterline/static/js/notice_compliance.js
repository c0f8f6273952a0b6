// A notice's compliance page (templates/notices/compliance.html): the reminder button.
// Server contract: POST /api/v1/notices/{id}/reminders → {"reminded": n}: everyone overdue
// (in the caller's branch, for a manager) gets the notice again in their inbox and tabs.

import { makeApi } from "./api.js";

const boot = JSON.parse(document.getElementById("boot").textContent);
const { strings } = boot;
const api = makeApi(boot.csrf_token, strings.error);
const button = document.getElementById("notice-remind");
const status = document.getElementById("notice-remind-status");

function fill(template, values) {
  return template.replace(/%\((\w+)\)s/g, (_, name) => String(values[name] ?? ""));
}

if (button) {
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      const answer = await api.post(`/notices/${boot.notice_id}/reminders`);
      status.textContent = fill(strings.notice_reminded, { count: answer.reminded });
    } catch (error) {
      status.textContent = error.message;
    } finally {
      button.disabled = false;
    }
  });
}
