// While someone types in the composer, FAQ entries that look like the same question
// (GET /api/v1/faq/suggestions?text= answers {suggestions: [{id, topic, question, url,
// score}]}) are offered over the box, so a question answered once is not asked again.
// Asked after a pause in typing; the newest answer wins; closing hides them until the
// message is sent.

const PAUSE_MS = 400;
const MIN_LENGTH = 4;

export class FaqSuggestions {
  constructor({ api, input, strings }) {
    Object.assign(this, { api, input, strings });
    this.timer = 0;
    this.asked = 0;
    this.dismissed = false;
    this.box = null;
  }

  attach() {
    this.box = this.build();
    this.input.closest("form").before(this.box);
    this.input.addEventListener("input", () => this.typed());
  }

  build() {
    const box = document.createElement("section");
    box.className = "faq-suggestions";
    box.id = "faq-suggestions";
    box.hidden = true;
    box.setAttribute("aria-live", "polite");
    box.setAttribute("aria-label", this.strings.faq_suggestions);
    const head = document.createElement("div");
    head.className = "faq-suggestions-head";
    const title = document.createElement("span");
    title.textContent = this.strings.faq_suggestions;
    const close = document.createElement("button");
    close.type = "button";
    close.className = "quiet";
    close.textContent = "×";
    close.setAttribute("aria-label", this.strings.close);
    close.addEventListener("click", () => {
      this.dismissed = true;
      box.hidden = true;
      this.input.focus();
    });
    head.append(title, close);
    this.list = document.createElement("ul");
    box.append(head, this.list);
    return box;
  }

  typed() {
    clearTimeout(this.timer);
    const text = this.input.value.trim();
    if (!text) this.dismissed = false; // sent or cleared: the next question gets them again
    if (this.dismissed || text.replace(/\s/g, "").length < MIN_LENGTH) {
      this.show([]);
      return;
    }
    this.timer = setTimeout(() => this.ask(text), PAUSE_MS);
  }

  async ask(text) {
    const asked = ++this.asked;
    try {
      const data = await this.api.get(`/faq/suggestions?text=${encodeURIComponent(text)}`);
      if (asked === this.asked && !this.dismissed) this.show(data.suggestions);
    } catch {
      // suggestions are an aid: nothing shown
    }
  }

  show(suggestions) {
    this.list.replaceChildren(...suggestions.map((suggestion) => {
      const item = document.createElement("li");
      const link = document.createElement("a");
      link.href = suggestion.url;
      link.target = "_blank";
      link.rel = "noopener";
      link.textContent = suggestion.question;
      item.append(link);
      if (suggestion.topic) item.append(` · ${suggestion.topic}`);
      return item;
    }));
    this.box.hidden = suggestions.length === 0;
  }
}
