// A panel opened by a button (colour menu, emoji picker, link dialog, formatting help): the
// button says aria-expanded and aria-controls; one panel is open at a time; Escape, a click
// outside, Tab out of it or the button again closes it. Escape gives focus back to the
// button (or to what returnFocus names). No server.

let openOne = null;

export class Popover {
  constructor(button, panel, { onOpen = () => {}, onClose = () => {}, returnFocus = () => button } = {}) {
    Object.assign(this, { button, panel, onOpen, onClose, returnFocus });
    if (!panel.id) panel.id = `popover-${Math.random().toString(36).slice(2, 10)}`;
    button.setAttribute("aria-controls", panel.id);
    button.setAttribute("aria-expanded", "false");
    panel.hidden = true;
    button.addEventListener("click", () => (this.isOpen ? this.close() : this.open()));
    panel.addEventListener("keydown", (event) => {
      if (event.key !== "Escape") return;
      event.preventDefault();
      event.stopPropagation();
      this.close({ focusButton: true });
    });
    // Tab out of the panel (to anything but its button) closes it too.
    panel.addEventListener("focusout", (event) => {
      const to = event.relatedTarget;
      if (to && !panel.contains(to) && !button.contains(to)) this.close();
    });
    this.outside = (event) => {
      if (!panel.contains(event.target) && !button.contains(event.target)) this.close();
    };
  }

  get isOpen() {
    return !this.panel.hidden;
  }

  open() {
    if (openOne && openOne !== this) openOne.close();
    openOne = this;
    this.panel.hidden = false;
    this.button.setAttribute("aria-expanded", "true");
    this.place();
    document.addEventListener("pointerdown", this.outside, true);
    this.onOpen();
  }

  /** Under its button where there is room, else as far that way as fits. */
  place() {
    const frame = this.panel.offsetParent;
    if (!frame) return;
    const room = frame.getBoundingClientRect();
    const left = this.button.getBoundingClientRect().left - room.left;
    const most = Math.max(0, room.width - this.panel.offsetWidth);
    this.panel.style.left = `${Math.round(Math.min(Math.max(0, left), most))}px`;
  }

  close({ focusButton = false } = {}) {
    if (!this.isOpen) return;
    const target = focusButton ? this.returnFocus() : null;
    if (openOne === this) openOne = null;
    this.panel.hidden = true;
    this.button.setAttribute("aria-expanded", "false");
    document.removeEventListener("pointerdown", this.outside, true);
    this.onClose();
    target?.focus();
  }
}

/** Arrow keys move focus among `items()` (one tab stop: roving tabindex). `columns` > 1: a
 * grid, Up and Down move by a row. Returns the function that makes an item the tab stop. */
export function rovingFocus(container, items, { columns = 1, vertical = false } = {}) {
  const makeCurrent = (target) => {
    for (const item of items()) item.tabIndex = item === target ? 0 : -1;
  };
  container.addEventListener("keydown", (event) => {
    const list = items();
    const index = list.indexOf(document.activeElement);
    if (index === -1) return;
    const steps = {
      ArrowRight: 1,
      ArrowLeft: -1,
      ArrowDown: columns > 1 ? columns : (vertical ? 1 : 0),
      ArrowUp: columns > 1 ? -columns : (vertical ? -1 : 0),
    };
    let next;
    if (event.key === "Home") next = 0;
    else if (event.key === "End") next = list.length - 1;
    else if (steps[event.key]) {
      next = index + steps[event.key];
      if (columns === 1) next = (next + list.length) % list.length;
      else next = Math.max(0, Math.min(list.length - 1, next));
    } else return;
    event.preventDefault();
    makeCurrent(list[next]);
    list[next].focus();
  });
  container.addEventListener("focusin", (event) => {
    if (items().includes(event.target)) makeCurrent(event.target);
  });
  return makeCurrent;
}
