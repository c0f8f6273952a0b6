// The room page's "Export record" dialog, for managers and administrators. Server contract:
// boot JSON `exports_record` (rooms/pages.py); markup #record-export (the button),
// #record-export-dialog with #record-export-form[data-export-url], radios name="format",
// dates #record-export-from / #record-export-to, #record-export-error and the
// #record-export-download link (templates/rooms/room.html). The download is a plain link to
// GET /api/v1/rooms/{id}/export?format=&after=&before= (exports/routes.py): `after` is the
// first day, `before` the day after the last one (the dialog's last day is included).

const boot = JSON.parse(document.getElementById("boot").textContent);
const byId = (id) => document.getElementById(id);

function dayAfter(day) {
  const next = new Date(`${day}T00:00:00Z`);
  next.setUTCDate(next.getUTCDate() + 1);
  return next.toISOString().slice(0, 10);
}

function exportUrl(form) {
  const params = new URLSearchParams({ format: form.elements.format.value });
  const from = byId("record-export-from").value;
  const to = byId("record-export-to").value;
  if (from) params.set("after", from);
  if (to) params.set("before", dayAfter(to));
  return `${form.dataset.exportUrl}?${params}`;
}

function attach() {
  const button = byId("record-export");
  const dialog = byId("record-export-dialog");
  if (!boot.exports_record || !button || !dialog) return;
  const form = byId("record-export-form");
  const link = byId("record-export-download");
  const error = byId("record-export-error");
  const update = () => {
    const from = byId("record-export-from").value;
    const to = byId("record-export-to").value;
    const wrong = Boolean(from && to && from > to);
    error.hidden = !wrong;
    link.setAttribute("aria-disabled", String(wrong));
    link.href = exportUrl(form);
  };
  form.addEventListener("input", update);
  form.addEventListener("change", update);
  link.addEventListener("click", (event) => {
    if (link.getAttribute("aria-disabled") === "true") {
      event.preventDefault();
      return;
    }
    // Let the browser start the download, then close the dialog.
    setTimeout(() => dialog.close(), 0);
  });
  button.addEventListener("click", () => {
    update();
    dialog.showModal();
  });
  dialog.addEventListener("close", () => button.focus());
}

attach();
