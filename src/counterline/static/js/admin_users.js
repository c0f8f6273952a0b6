// The users console (/admin/users): each button calls /api/v1/admin/users (see
// admin/user_routes.py) and the page reloads to show the change; a one-time password is
// shown once in a dialog first. Strings come from the page (boot.strings).
import { makeApi } from "./api.js";

const boot = JSON.parse(document.getElementById("boot").textContent);
const strings = boot.strings;
const api = makeApi(boot.csrf_token, strings.failed);

function format(template, values) {
  return template.replace(/%\((\w+)\)s/g, (_, key) => String(values[key] ?? ""));
}

const errorBox = document.getElementById("users-error");
const flashBox = document.getElementById("users-flash");

function showError(error) {
  errorBox.textContent = error.message || strings.failed;
  errorBox.hidden = false;
  flashBox.hidden = true;
  errorBox.scrollIntoView({ block: "nearest" });
}

function reload(flash) {
  if (flash) sessionStorage.setItem("users-flash", flash);
  window.location.reload();
}

const remembered = sessionStorage.getItem("users-flash");
if (remembered) {
  sessionStorage.removeItem("users-flash");
  flashBox.textContent = remembered;
  flashBox.hidden = false;
}

const passwordDialog = document.getElementById("password-dialog");
function showPassword(title, user, password) {
  document.getElementById("password-title").textContent = title;
  document.getElementById("password-text").textContent = format(strings.one_time_for, {
    name: user.display_name,
    username: user.username,
  });
  document.getElementById("password-value").textContent = password;
  passwordDialog.showModal();
}
document.getElementById("password-close").addEventListener("click", () => {
  passwordDialog.close();
});
passwordDialog.addEventListener("close", () => reload());

const editDialog = document.getElementById("edit-dialog");
const editForm = document.getElementById("edit-form");
const editError = document.getElementById("edit-error");
let editing = null;

function openEditor(row) {
  editing = row;
  document.getElementById("edit-username").textContent = row.dataset.username;
  document.getElementById("edit-name").value = row.dataset.name;
  document.getElementById("edit-branch").value = row.dataset.branchId;
  document.getElementById("edit-role").value = row.dataset.role;
  editError.hidden = true;
  editDialog.showModal();
}
document.getElementById("edit-cancel").addEventListener("click", () => editDialog.close());
editForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const changes = {};
  const name = document.getElementById("edit-name").value.trim();
  const branchId = Number(document.getElementById("edit-branch").value);
  const role = document.getElementById("edit-role").value;
  if (name !== editing.dataset.name) changes.display_name = name;
  if (branchId !== Number(editing.dataset.branchId)) changes.branch_id = branchId;
  if (role !== editing.dataset.role) changes.role = role;
  try {
    await api.patch(`/admin/users/${editing.dataset.userId}`, changes);
  } catch (error) {
    editError.textContent = error.message;
    editError.hidden = false;
    return;
  }
  editDialog.close();
  reload(strings.saved);
});

async function act(row, action) {
  const id = row.dataset.userId;
  const name = row.dataset.name;
  if (action === "edit") {
    openEditor(row);
  } else if (action === "deactivate") {
    if (!window.confirm(format(strings.confirm_deactivate, { name }))) return;
    await api.post(`/admin/users/${id}/deactivate`);
    reload(strings.saved);
  } else if (action === "reactivate") {
    await api.post(`/admin/users/${id}/reactivate`);
    reload(strings.saved);
  } else if (action === "reset") {
    if (!window.confirm(format(strings.confirm_reset, { name }))) return;
    const answer = await api.post(`/admin/users/${id}/password-reset`);
    showPassword(strings.reset_title, answer.user, answer.one_time_password);
  } else if (action === "unlock") {
    const answer = await api.post(`/admin/users/${id}/unlock`);
    reload(format(strings.unlocked, { name, count: answer.failures_cleared }));
  }
}

document.getElementById("users-table").addEventListener("click", async (event) => {
  const button = event.target.closest("button[data-action]");
  if (!button) return;
  button.disabled = true;
  try {
    await act(button.closest("tr"), button.dataset.action);
  } catch (error) {
    showError(error);
  } finally {
    button.disabled = false;
  }
});

document.getElementById("create-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  try {
    const answer = await api.post("/admin/users", {
      username: form.username.value.trim(),
      display_name: form.display_name.value.trim(),
      branch_id: Number(form.branch_id.value),
      role: form.role.value,
    });
    showPassword(strings.created_title, answer.user, answer.one_time_password);
  } catch (error) {
    showError(error);
  } finally {
    button.disabled = false;
  }
});
