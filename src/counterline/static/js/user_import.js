// Importing users (/admin/users/import): the chosen file goes as it is to
// POST /api/v1/admin/users/import/preview (the server reads its encoding), the preview
// marks the bad rows, the import runs on the server and this page polls its progress.
import { ApiError } from "./api.js";

const boot = JSON.parse(document.getElementById("boot").textContent);
const strings = boot.strings;
const POLL_MS = 500;

function format(template, values) {
  return template.replace(/%\((\w+)\)s/g, (_, key) => String(values[key] ?? ""));
}

const errorBox = document.getElementById("import-error");
const fileInput = document.getElementById("import-file");
const createBranches = document.getElementById("create-branches");
const previewStep = document.getElementById("preview-step");
const progressStep = document.getElementById("progress-step");
const importButton = document.getElementById("import-button");

function showError(error) {
  errorBox.textContent = error.message || strings.failed;
  errorBox.hidden = false;
}

async function call(method, path, body) {
  const headers = {
    Accept: "application/json",
    "Accept-Language": document.documentElement.lang || "zh-CN",
    "X-CSRF-Token": boot.csrf_token,
  };
  if (body !== undefined) headers["Content-Type"] = "text/csv";
  let response;
  try {
    response = await fetch(`/api/v1${path}`, { method, headers, body, credentials: "same-origin" });
  } catch {
    throw new ApiError(strings.failed, 0);
  }
  const data = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError((data && data.error) || strings.failed, response.status);
  return data;
}

function query() {
  return createBranches.checked ? "?create_branches=true" : "";
}

function cell(row, text, className) {
  const td = document.createElement("td");
  td.textContent = text;
  if (className) td.className = className;
  row.append(td);
}

function showPreview(answer) {
  const body = document.querySelector("#preview-table tbody");
  body.replaceChildren();
  for (const item of answer.rows) {
    const row = document.createElement("tr");
    if (item.errors.length) row.className = "bad";
    cell(row, String(item.line), "numeric");
    cell(row, item.username);
    cell(row, item.display_name);
    cell(row, item.branch);
    cell(row, item.role);
    cell(row, item.errors.join(" "), item.errors.length ? "row-errors" : "");
    body.append(row);
  }
  let summary = format(strings.summary, answer);
  if (createBranches.checked && answer.missing_branches.length) {
    summary += ` ${format(strings.new_branches, { names: answer.missing_branches.join("、") })}`;
  }
  document.getElementById("preview-summary").textContent = summary;
  importButton.disabled = answer.valid === 0;
  previewStep.hidden = false;
  progressStep.hidden = true;
}

document.getElementById("choose-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  errorBox.hidden = true;
  const file = fileInput.files[0];
  if (!file) {
    showError(new Error(strings.choose_file));
    return;
  }
  try {
    showPreview(await call("POST", `/admin/users/import/preview${query()}`, file));
  } catch (error) {
    previewStep.hidden = true;
    showError(error);
  }
});

function showProgress(status) {
  const bar = document.getElementById("import-progress");
  bar.setAttribute("aria-valuenow", String(status.percent));
  document.getElementById("import-progress-bar").style.width = `${status.percent}%`;
  document.getElementById("progress-text").textContent = format(strings.progress, status);
}

function showSummary(status) {
  const template = status.state === "done" ? strings.finished : strings.failed_import;
  document.getElementById("import-summary").textContent = format(template, {
    created: status.created,
    refused: status.errors.length,
  });
  const list = document.getElementById("import-errors");
  list.replaceChildren();
  for (const error of status.errors) {
    const item = document.createElement("li");
    item.textContent = `${error.line}: ${error.username} — ${error.errors.join(" ")}`;
    list.append(item);
  }
  const link = document.getElementById("passwords-link");
  if (status.passwords_url) {
    link.href = status.passwords_url;
    link.hidden = false;
    link.addEventListener(
      "click",
      () => {
        setTimeout(() => {
          link.hidden = true;
          document.getElementById("import-summary").append(` ${strings.passwords_taken}`);
        }, 500);
      },
      { once: true },
    );
  }
}

async function follow(id) {
  for (;;) {
    const status = await call("GET", `/admin/users/import/${id}`);
    showProgress(status);
    if (status.state !== "running") {
      showSummary(status);
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

importButton.addEventListener("click", async () => {
  errorBox.hidden = true;
  importButton.disabled = true;
  try {
    const status = await call("POST", `/admin/users/import${query()}`, fileInput.files[0]);
    progressStep.hidden = false;
    showProgress(status);
    await follow(status.id);
  } catch (error) {
    showError(error);
    importButton.disabled = false;
  }
});
