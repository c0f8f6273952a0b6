// The "API tokens" page: the copy button beside a new token's secret (shown once).
const button = document.getElementById("copy-token");
const secret = document.getElementById("token-secret");
const status = document.getElementById("copy-status");

async function copy() {
  secret.focus();
  secret.select();
  try {
    // The clipboard API needs a secure context; intranet http:// pages fall back.
    if (navigator.clipboard && window.isSecureContext) await navigator.clipboard.writeText(secret.value);
    else if (!document.execCommand("copy")) throw new Error("copy refused");
    status.textContent = button.dataset.copied;
  } catch {
    status.textContent = button.dataset.failed;
  }
}

if (button && secret) {
  button.addEventListener("click", copy);
  secret.addEventListener("focus", () => secret.select());
}
