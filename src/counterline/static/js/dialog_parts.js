// The parts every small dialog of ours has: a hidden error line read out when it shows, and
// a row with Cancel and the dialog's own button.

export function errorLine() {
  const error = document.createElement("p");
  error.className = "form-error";
  error.setAttribute("role", "alert");
  error.hidden = true;
  return error;
}

export function dialogButtons(cancelLabel, confirmLabel, { type = "button", className = "" } = {}) {
  const buttons = document.createElement("div");
  buttons.className = "dialog-buttons";
  const cancel = document.createElement("button");
  cancel.type = "button";
  cancel.textContent = cancelLabel;
  const confirm = document.createElement("button");
  confirm.type = type;
  confirm.className = className;
  confirm.textContent = confirmLabel;
  buttons.append(cancel, confirm);
  return { buttons, cancel, confirm };
}
