// The composer's preview: while its toggle is pressed, the draft as the server will render it,
// updated a moment after typing stops. Server contract: POST /api/v1/messages/preview
// {"body"} answers {"html"}, sanitised by the server (the same renderer as stored messages),
// or {"error"} that we show instead. Answers to older drafts are dropped.

const DELAY_MS = 250;

export class Preview {
  constructor({ button, pane, box, api, strings }) {
    Object.assign(this, { button, pane, box, api, strings });
    this.timer = 0;
    this.asked = 0;
    this.shownFor = null;
  }

  attach() {
    this.pane.setAttribute("role", "region");
    this.pane.setAttribute("aria-label", this.strings.fmt_preview);
    this.pane.hidden = true;
    this.body = document.createElement("div");
    this.body.className = "preview-body";
    this.pane.append(this.body);
    this.button.setAttribute("aria-controls", this.pane.id);
    this.button.addEventListener("click", () => this.toggle());
    this.box.addEventListener("input", () => this.changed());
  }

  get on() {
    return this.button.getAttribute("aria-pressed") === "true";
  }

  toggle() {
    const on = !this.on;
    this.button.setAttribute("aria-pressed", String(on));
    this.pane.hidden = !on;
    if (on) this.refresh();
  }

  /** The draft changed (typed, or emptied after sending). */
  changed() {
    if (!this.on) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.refresh(), DELAY_MS);
  }

  async refresh() {
    clearTimeout(this.timer);
    const body = this.box.value;
    if (body === this.shownFor) return;
    const ask = ++this.asked;
    if (!body.trim()) {
      this.show(null, this.strings.preview_empty);
      this.shownFor = body;
      return;
    }
    this.pane.classList.add("loading");
    try {
      const answer = await this.api.post("/messages/preview", { body });
      if (ask !== this.asked) return;
      this.show(answer.html, null);
      this.shownFor = body;
    } catch (error) {
      if (ask !== this.asked) return;
      this.show(null, error.message);
      this.shownFor = null;
    }
  }

  show(html, note) {
    this.pane.classList.remove("loading");
    this.pane.classList.toggle("empty", html === null);
    if (html === null) this.body.textContent = note;
    else this.body.innerHTML = html; // sanitised on the server (nh3), as message bodies
  }
}
