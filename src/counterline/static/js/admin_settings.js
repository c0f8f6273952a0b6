// The settings page's logo picker: a chosen picture is uploaded (POST /api/v1/uploads, the
// session's CSRF token from the page's boot data) and its id put in the "Logo" field; the
// form's Save button stores it. Without JavaScript the field takes an upload id typed in.

const boot = JSON.parse(document.getElementById("boot").textContent);
const picker = document.getElementById("logo-file");
const field = document.getElementById("site_logo");
const preview = document.getElementById("logo-preview");
const status = document.getElementById("logo-status");

function say(text, failed) {
  status.textContent = text;
  status.classList.toggle("field-error", failed);
  status.classList.toggle("field-hint", !failed);
  status.hidden = !text;
}

async function upload(file) {
  const body = new FormData();
  body.append("file", file);
  say(boot.strings.uploading, false);
  let response;
  try {
    response = await fetch("/api/v1/uploads", {
      method: "POST",
      body,
      credentials: "same-origin",
      headers: {
        Accept: "application/json",
        "Accept-Language": document.documentElement.lang || "zh-CN",
        "X-CSRF-Token": boot.csrf_token,
      },
    });
  } catch {
    say(boot.strings.failed, true);
    return;
  }
  const data = await response.json().catch(() => null);
  if (!response.ok || !data) {
    say((data && data.error) || boot.strings.failed, true);
    return;
  }
  if (data.kind !== "image") {
    say(boot.strings.not_a_picture, true);
    return;
  }
  field.value = String(data.id);
  preview.src = `/api/v1/uploads/${data.id}/thumbnail`;
  preview.hidden = false;
  say(boot.strings.uploaded, false);
}

picker.hidden = false;
picker.closest(".logo-picker").hidden = false;
picker.addEventListener("change", () => {
  const [file] = picker.files;
  if (file) upload(file);
});
