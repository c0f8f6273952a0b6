// The portal's admin page (templates/portal/admin.html). Server contract: GET
// /api/v1/admin/portal → {"entries": [EntryOut]}; POST /api/v1/admin/portal and PUT
// /api/v1/admin/portal/{id} take {"name", "description", "category", "kind", "url",
// "icon_upload_id", "position", "active", "visible_to_all", "branch_ids", "roles",
// "down_notice_room_id"} and answer the entry; DELETE /api/v1/admin/portal/{id} → 204. An
// icon is uploaded first (POST /api/v1/uploads, multipart field "file" → {"id", ...}).

import { makeApi } from "./api.js";

const boot = JSON.parse(document.getElementById("boot").textContent);
const { strings } = boot;
const api = makeApi(boot.csrf_token, strings.error);
const table = document.getElementById("portal-entries");
const form = document.getElementById("portal-form");
const formTitle = document.getElementById("portal-form-title");
const formError = document.getElementById("portal-form-error");
const status = document.getElementById("portal-admin-status");
let entries = [];

function fill(template, values) {
  return template.replace(/%\((\w+)\)s/g, (_, key) => values[key] ?? "");
}

function cell(text) {
  const td = document.createElement("td");
  td.textContent = text;
  return td;
}

function audience(entry) {
  if (entry.visible_to_all) return strings.everyone;
  const branches = entry.branch_ids.map((id) => boot.branches[id] || `#${id}`);
  return [...branches, ...entry.roles].join("、") || "—";
}

function draw() {
  table.replaceChildren();
  for (const entry of entries) {
    const row = document.createElement("tr");
    row.dataset.entryId = entry.id;
    const name = cell(entry.name + (entry.active ? "" : ` (${strings.inactive})`));
    row.append(name, cell(entry.category), cell(entry.url), cell(audience(entry)));
    const state = cell(entry.kind === "web" ? strings[`status_${entry.check.status}`] : strings.client);
    state.dataset.status = entry.check.status;
    row.append(state);
    const actions = document.createElement("td");
    const edit = document.createElement("button");
    edit.type = "button";
    edit.textContent = strings.edit;
    edit.setAttribute("aria-label", `${strings.edit} ${entry.name}`);
    edit.addEventListener("click", () => startEdit(entry));
    const remove = document.createElement("button");
    remove.type = "button";
    remove.textContent = strings.delete;
    remove.setAttribute("aria-label", `${strings.delete} ${entry.name}`);
    remove.addEventListener("click", () => removeEntry(entry));
    actions.append(edit, " ", remove);
    row.append(actions);
    table.append(row);
  }
}

async function load() {
  try {
    entries = (await api.get("/admin/portal")).entries;
    draw();
  } catch (error) {
    status.textContent = error.message;
  }
}

function setChecked(name, values) {
  for (const box of form.querySelectorAll(`input[name="${name}"]`)) box.checked = values.includes(box.value);
}

function startEdit(entry) {
  form.elements.id.value = entry.id;
  form.elements.name.value = entry.name;
  form.elements.category.value = entry.category;
  form.elements.description.value = entry.description;
  form.querySelector(`input[name="kind"][value="${entry.kind}"]`).checked = true;
  form.elements.url.value = entry.url;
  form.elements.position.value = entry.position;
  form.elements.active.checked = entry.active;
  form.elements.visible_to_all.checked = entry.visible_to_all;
  setChecked("branch_ids", entry.branch_ids.map(String));
  setChecked("roles", entry.roles);
  form.elements.down_notice_room_id.value = entry.down_notice_room_id ?? "";
  form.elements.remove_icon.checked = false;
  form.dataset.iconUploadId = entry.icon_upload_id ?? "";
  formTitle.textContent = fill(strings.edit_entry, { name: entry.name });
  formError.textContent = "";
  form.elements.name.focus();
}

function resetForm() {
  form.reset();
  form.elements.id.value = "";
  form.dataset.iconUploadId = "";
  formTitle.textContent = strings.new_entry;
  formError.textContent = "";
}

async function uploadIcon(file) {
  const body = new FormData();
  body.append("file", file);
  const response = await fetch("/api/v1/uploads", {
    method: "POST",
    body,
    credentials: "same-origin",
    headers: { "X-CSRF-Token": boot.csrf_token, "Accept-Language": document.documentElement.lang || "zh-CN" },
  });
  const data = await response.json().catch(() => null);
  if (!response.ok) throw new Error((data && data.error) || strings.error);
  return data.id;
}

async function removeEntry(entry) {
  if (!window.confirm(fill(strings.confirm_delete, { name: entry.name }))) return;
  try {
    await api.delete(`/admin/portal/${entry.id}`);
    status.textContent = strings.deleted;
    await load();
  } catch (error) {
    status.textContent = error.message;
  }
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  formError.textContent = "";
  const values = form.elements;
  let iconId = form.dataset.iconUploadId ? Number(form.dataset.iconUploadId) : null;
  try {
    if (values.remove_icon.checked) iconId = null;
    else if (values.icon.files.length) {
      status.textContent = strings.uploading;
      iconId = await uploadIcon(values.icon.files[0]);
    }
    const body = {
      name: values.name.value,
      category: values.category.value,
      description: values.description.value,
      kind: form.querySelector('input[name="kind"]:checked').value,
      url: values.url.value,
      icon_upload_id: iconId,
      position: Number(values.position.value) || 0,
      active: values.active.checked,
      visible_to_all: values.visible_to_all.checked,
      branch_ids: [...form.querySelectorAll('input[name="branch_ids"]:checked')].map((box) => Number(box.value)),
      roles: [...form.querySelectorAll('input[name="roles"]:checked')].map((box) => box.value),
      down_notice_room_id: values.down_notice_room_id.value ? Number(values.down_notice_room_id.value) : null,
    };
    const id = values.id.value;
    if (id) await api.put(`/admin/portal/${id}`, body);
    else await api.post("/admin/portal", body);
    status.textContent = strings.saved;
    resetForm();
    await load();
  } catch (error) {
    status.textContent = "";
    formError.textContent = error.message;
  }
});

document.getElementById("portal-form-reset").addEventListener("click", resetForm);
load();
