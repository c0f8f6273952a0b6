// The integrations console (/admin/integrations): each form and button calls the JSON API
// (/api/v1/hooks, /api/v1/admin/bots, /api/v1/admin/outgoing-hooks) and the page reloads to
// show the change; a new secret is shown once in a dialog first. Strings come from the page.
import { makeApi } from "./api.js";

const boot = JSON.parse(document.getElementById("boot").textContent);
const strings = boot.strings;
const api = makeApi(boot.csrf_token, strings.failed);

function format(template, values) {
  return template.replace(/%\((\w+)\)s/g, (_, key) => String(values[key] ?? ""));
}

const errorBox = document.getElementById("integrations-error");
const flashBox = document.getElementById("integrations-flash");

function showError(error) {
  errorBox.textContent = (error && error.message) || strings.failed;
  errorBox.hidden = false;
  flashBox.hidden = true;
  errorBox.scrollIntoView({ block: "nearest" });
}

function reload(flash) {
  if (flash) sessionStorage.setItem("integrations-flash", flash);
  window.location.reload();
}

const remembered = sessionStorage.getItem("integrations-flash");
if (remembered) {
  sessionStorage.removeItem("integrations-flash");
  flashBox.textContent = remembered;
  flashBox.hidden = false;
}

const secretDialog = document.getElementById("secret-dialog");
const secretValue = document.getElementById("secret-value");
const secretCopied = document.getElementById("secret-copied");
function showSecret(title, text, secret) {
  document.getElementById("secret-title").textContent = title;
  document.getElementById("secret-text").textContent = text;
  secretValue.textContent = secret;
  secretCopied.textContent = "";
  secretDialog.showModal();
}
document.getElementById("secret-copy").addEventListener("click", async () => {
  try {
    await navigator.clipboard.writeText(secretValue.textContent);
  } catch {
    // Plain http:// pages have no clipboard API: select the text for Ctrl+C instead.
    const range = document.createRange();
    range.selectNodeContents(secretValue);
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    document.execCommand("copy");
  }
  secretCopied.textContent = strings.copied;
});
document.getElementById("secret-close").addEventListener("click", () => secretDialog.close());
// Forget the secret when the dialog closes: the page reloads without it.
secretDialog.addEventListener("close", () => reload());

function busy(form, on) {
  for (const button of form.querySelectorAll("button")) button.disabled = on;
}

function onSubmit(id, send) {
  const form = document.getElementById(id);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    busy(form, true);
    try {
      await send(form);
    } catch (error) {
      showError(error);
    } finally {
      busy(form, false);
    }
  });
}

function roomOf(select) {
  const roomId = Number(select.value);
  if (!roomId) throw new Error(strings.choose_room);
  return roomId;
}

onSubmit("hook-form", async (form) => {
  const hook = await api.post("/hooks", {
    name: form.elements.name.value.trim(),
    room_id: roomOf(form.elements.room_id),
    allow_username_override: form.elements.allow_username_override.checked,
  });
  showSecret(strings.hook_created, strings.hook_secret, hook.url);
});

onSubmit("bot-form", async (form) => {
  const roomIds = Array.from(form.querySelectorAll("input[name=room_ids]:checked"), (box) =>
    Number(box.value),
  );
  const bot = await api.post("/admin/bots", {
    username: form.elements.username.value.trim(),
    display_name: form.elements.display_name.value.trim(),
    room_ids: roomIds,
  });
  showSecret(strings.bot_created, strings.bot_secret, bot.token);
});

onSubmit("outgoing-form", async (form) => {
  const words = form.elements.trigger_words.value.split(/[\s,，、]+/).filter((word) => word);
  const hook = await api.post("/admin/outgoing-hooks", {
    name: form.elements.name.value.trim(),
    room_id: roomOf(form.elements.room_id),
    trigger_words: words,
    callback_url: form.elements.callback_url.value.trim(),
  });
  showSecret(strings.outgoing_created, strings.outgoing_secret, hook.token);
});

const REMOVALS = {
  "revoke-hook": { id: "hookId", path: "/hooks/", confirm: "confirm_revoke_hook" },
  "delete-bot": { id: "botId", path: "/admin/bots/", confirm: "confirm_delete_bot" },
  "revoke-outgoing": {
    id: "outgoingId",
    path: "/admin/outgoing-hooks/",
    confirm: "confirm_revoke_outgoing",
  },
};

document.getElementById("main").addEventListener("click", async (event) => {
  const button = event.target.closest("button[data-action]");
  const removal = button && REMOVALS[button.dataset.action];
  if (!removal) return;
  const row = button.closest("tr");
  if (!window.confirm(format(strings[removal.confirm], { name: row.dataset.name }))) return;
  button.disabled = true;
  try {
    await api.delete(`${removal.path}${row.dataset[removal.id]}`);
  } catch (error) {
    button.disabled = false;
    showError(error);
    return;
  }
  reload(strings.revoked);
});
