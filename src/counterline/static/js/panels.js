// Server contract: none; markup from templates/rooms/room.html. Buttons with
// [data-panel-toggle][aria-controls] open the rooms and people drawers on narrow screens,
// [data-panel-close] and Escape close them, and the account menu (<details>) closes on
// Escape or a click elsewhere. Focus moves into an opened drawer and back to its button.

export function attachPanels(root = document) {
  const scrim = root.querySelector(".scrim");
  const toggles = [...root.querySelectorAll("[data-panel-toggle]")];
  let openToggle = null;

  function close() {
    if (!openToggle) return;
    const toggle = openToggle;
    openToggle = null;
    toggle.setAttribute("aria-expanded", "false");
    document.getElementById(toggle.getAttribute("aria-controls")).classList.remove("open");
    scrim.classList.remove("open");
    scrim.hidden = true;
    toggle.focus();
  }

  function open(toggle) {
    close();
    const panel = document.getElementById(toggle.getAttribute("aria-controls"));
    openToggle = toggle;
    toggle.setAttribute("aria-expanded", "true");
    panel.classList.add("open");
    scrim.hidden = false;
    scrim.classList.add("open");
    const first = panel.querySelector("a, button:not([data-panel-close]), [tabindex]");
    (first || panel).focus();
  }

  for (const toggle of toggles) {
    toggle.addEventListener("click", () => (openToggle === toggle ? close() : open(toggle)));
  }
  for (const closer of root.querySelectorAll("[data-panel-close]")) {
    closer.addEventListener("click", close);
  }

  const menu = root.querySelector(".account-menu");
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape") return;
    if (menu && menu.open) {
      menu.open = false;
      menu.querySelector("summary").focus();
    } else {
      close();
    }
  });
  document.addEventListener("click", (event) => {
    if (menu && menu.open && !menu.contains(event.target)) menu.open = false;
  });
}
