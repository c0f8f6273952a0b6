// Titles under links to the company's intranet systems. Server contract: boot.link_preview_hosts
// lists the hosts the administrator allowed (previews/titles.py HostList: "oa.example.local",
// or ".example.local" for every host under it); GET /api/v1/link-preview?url=… answers
// {url, title|null} for them and 404 for anything else, so only those links are asked about.

export class LinkPreviews {
  constructor(hosts, api) {
    this.exact = new Set();
    this.suffixes = [];
    for (const entry of hosts || []) {
      const host = entry.trim().toLowerCase().replace(/^\*/, "");
      if (host.startsWith(".")) {
        this.suffixes.push(host);
        this.exact.add(host.slice(1));
      } else if (host) {
        this.exact.add(host);
      }
    }
    this.api = api;
    this.titles = new Map(); // url → Promise of the title (null: none)
  }

  allows(href) {
    let url;
    try {
      url = new URL(href);
    } catch {
      return false;
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") return false;
    const host = url.hostname.toLowerCase();
    return this.exact.has(host) || this.suffixes.some((suffix) => host.endsWith(suffix));
  }

  /** Add a title line under each allowed link of a rendered message body. */
  enhance(body) {
    if (this.exact.size === 0) return;
    for (const link of body.querySelectorAll("a[href]")) {
      if (link.dataset.previewed || !this.allows(link.href)) continue;
      link.dataset.previewed = "1";
      this.titleOf(link.href).then((title) => {
        if (!title || !link.isConnected) return;
        const card = document.createElement("span");
        card.className = "link-preview";
        card.textContent = title;
        link.after(card);
      });
    }
  }

  titleOf(href) {
    if (!this.titles.has(href)) {
      const asked = this.api
        .get(`/link-preview?url=${encodeURIComponent(href)}`)
        .then((answer) => answer.title)
        .catch(() => null);
      this.titles.set(href, asked);
    }
    return this.titles.get(href);
  }
}
