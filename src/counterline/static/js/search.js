// The search page (templates/search/search.html). Server contract: GET /api/v1/search with
// q, room, author, branch, after, before (YYYY-MM-DD), has (picture|file), mentions_me,
// from_me, order (newest|relevance), cursor, limit → {"results": [{"message_id", "room": {"id",
// "name", "kind"}, "author": {"id", "username", "display_name"}, "branch": {"id", "name"},
// "created_at", "snippet_html", "attachments": [{"name", "kind"}]}], "next_cursor", "terms",
// "documents"}; documents (first page only: null after) lists notices and FAQ entries as
// [{"kind", "id", "title", "url", "snippet_html"}], shown in #search-documents (the page renders
// the address's at load) under the headings boot.document_labels gives each kind;
// a query it cannot read is a 400 whose error says why; author may be a username or a name.
// The author box suggests people from GET /api/v1/users → {"users": [{"username",
// "display_name", "branch_name", …}]}, asked the first time it has the focus. Staff export the same search from
// GET /api/v1/search/export?<same parameters>&format=csv|xlsx|json. Each result opens the
// message in its room (/rooms/{room id}?at=<message id>, history.js highlights it).
//
// The page's address holds the search (/search?q=…&room=…): the form is filled from it, a
// search pushes a new address, and back/forward show the search of that address again.

import { makeApi } from "./api.js";
import { directory } from "./directory.js";
import { InboxBadge } from "./inbox_badge.js";
import { snippetNodes } from "./search_snippet.js";

const PAGE = 20;
// The address's parameters, named as the form's fields and the API's parameters.
const FIELDS = ["q", "room", "author", "branch", "after", "before", "has", "mentions_me", "from_me", "order"];
const FILTERS = FIELDS.filter((name) => name !== "q" && name !== "order");
const DEFAULT_ORDER = "newest";

const boot = JSON.parse(document.getElementById("boot").textContent);
const { strings } = boot;
const api = makeApi(boot.csrf_token, strings.error);
const byId = (id) => document.getElementById(id);
const form = byId("search-form");
const input = byId("search-q");
const errorBox = byId("search-error");
const status = byId("search-status");
const list = byId("search-results");
const more = byId("search-more");
const intro = byId("search-intro");
const empty = byId("search-empty");
const exportLinks = byId("search-export");
const documentsBox = byId("search-documents");
const filtersPanel = byId("search-filters");
const filtersToggle = byId("filters-toggle");
const pageTitle = document.title;
const timeParts = new Intl.DateTimeFormat("en-GB", {
  timeZone: boot.time_zone, year: "numeric", month: "2-digit", day: "2-digit",
  hour: "2-digit", minute: "2-digit", hourCycle: "h23",
});
// Conversations are titled for the viewer (the other person's name): the room select has them.
const roomTitles = new Map(
  Array.from(byId("filter-room").options, (option) => [option.value, option.textContent]),
);

let peopleAsked = false;
let shown = null; // the parameters whose results are on the page
let cursor = null;
let generation = 0; // answers to an older search than the latest are dropped
let loaded = false; // the page came with the documents of its address

/** Fill the author box's suggestions (a directory of thousands costs the page nothing
 * until someone looks for an author). */
async function suggestPeople() {
  if (peopleAsked) return;
  peopleAsked = true;
  try {
    const users = await directory(api);
    byId("search-people").replaceChildren(...users.map((user) => {
      const option = document.createElement("option");
      option.value = user.username;
      option.label = `${user.display_name} · ${user.branch_name}`;
      return option;
    }));
  } catch {
    peopleAsked = false; // asked again at the next focus
  }
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function format(template, values) {
  return template.replace(/%\((\w+)\)s/g, (_, name) => String(values[name] ?? ""));
}

function localTime(iso) {
  const part = Object.fromEntries(
    timeParts.formatToParts(new Date(iso)).map(({ type, value }) => [type, value]),
  );
  return `${part.year}-${part.month}-${part.day} ${part.hour}:${part.minute}`;
}

/** The day after (or with ``step`` -1, before) a YYYY-MM-DD day. The address's ``before``
 * excludes its day (search/syntax.py); the "to date" control includes it, as people mean it. */
function nextDay(day, step = 1) {
  const date = new Date(`${day}T00:00:00Z`);
  if (Number.isNaN(date.getTime())) return day;
  date.setUTCDate(date.getUTCDate() + step);
  return date.toISOString().slice(0, 10);
}

function fieldValue(name) {
  const field = form.elements.namedItem(name);
  if (field.type === "checkbox") return field.checked ? "true" : "";
  const value = field.value.trim();
  if (name === "before" && value) return nextDay(value);
  if (name === "order" && value === DEFAULT_ORDER) return "";
  return value;
}

function paramsOfForm() {
  const params = new URLSearchParams();
  for (const name of FIELDS) {
    const value = fieldValue(name);
    if (value) params.set(name, value);
  }
  return params;
}

/** The search in the page's address, limited to the parameters the page knows. */
function paramsOfAddress() {
  const address = new URLSearchParams(window.location.search);
  const params = new URLSearchParams();
  for (const name of FIELDS) {
    const value = address.get(name);
    if (value) params.set(name, value);
  }
  return params;
}

function fillForm(params) {
  for (const name of FIELDS) {
    const field = form.elements.namedItem(name);
    const value = params.get(name) || "";
    if (field.type === "checkbox") field.checked = value === "true";
    else if (name === "order") field.value = value === "relevance" ? value : DEFAULT_ORDER;
    else if (name === "before") field.value = value ? nextDay(value, -1) : "";
    else if (field.tagName === "SELECT") {
      field.value = Array.from(field.options).some((option) => option.value === value) ? value : "";
    } else field.value = value;
  }
  showFilterCount();
}

function activeFilters() {
  return FILTERS.filter((name) => fieldValue(name)).length;
}

function showFilterCount() {
  const count = activeFilters();
  const badge = byId("filters-count");
  badge.textContent = count ? String(count) : "";
  badge.title = count ? format(strings.search_filters_on, { count }) : "";
  byId("filters-clear").hidden = !count;
  byId("empty-clear-filters").hidden = !count;
}

function hasCriteria(params) {
  return FIELDS.some((name) => name !== "order" && params.has(name));
}

function showError(message) {
  errorBox.textContent = message;
  errorBox.hidden = !message;
  if (message) input.setAttribute("aria-invalid", "true");
  else input.removeAttribute("aria-invalid");
}

function setBusy(busy) {
  list.setAttribute("aria-busy", String(busy));
  document.body.classList.toggle("searching", busy);
  more.disabled = busy;
}

function attachmentList(attachments) {
  const files = el("ul", "result-files");
  files.setAttribute("aria-label", strings.search_attachments);
  for (const { name, kind } of attachments) {
    const picture = kind === "picture" || kind === "image";
    const item = el("li", picture ? "result-file picture" : "result-file");
    item.append(el("span", "visually-hidden", `${picture ? strings.search_picture : strings.search_file}: `));
    item.append(el("span", "result-file-name", name));
    files.append(item);
  }
  return files;
}

function resultItem(result) {
  const { message_id: messageId, room, author, branch } = result;
  const row = el("li", "result");
  row.dataset.messageId = String(messageId);
  const link = el("a", "result-link");
  link.href = `/rooms/${room.id}?at=${messageId}`;
  const meta = el("div", "result-meta");
  const time = el("time", "result-time", localTime(result.created_at));
  time.dateTime = result.created_at;
  meta.append(
    el("span", "result-room", roomTitles.get(String(room.id)) || room.name),
    el("span", "result-author", author.display_name),
  );
  if (branch && branch.name) meta.append(el("span", "branch-tag result-branch", branch.name));
  meta.append(time);
  const snippet = el("p", "result-snippet");
  snippet.append(...snippetNodes(result.snippet_html));
  link.append(meta, snippet);
  if (result.attachments && result.attachments.length) link.append(attachmentList(result.attachments));
  row.append(link);
  return row;
}

/** The notices and FAQ entries of a search's first page, a section per kind, in the order
 * they come (templates/search/_documents.html is the same markup). */
function showDocuments(documents) {
  const kinds = new Map();
  for (const document_ of documents || []) {
    if (!kinds.has(document_.kind)) kinds.set(document_.kind, []);
    kinds.get(document_.kind).push(document_);
  }
  const labels = boot.document_labels || {};
  const sections = Array.from(kinds, ([kind, hits]) => {
    const section = el("section", "document-hits");
    section.dataset.kind = kind;
    const heading = el("h2", "document-heading", labels[kind] || kind);
    heading.id = `documents-${kind}`;
    section.setAttribute("aria-labelledby", heading.id);
    const items = el("ul", "document-list");
    for (const hit of hits) {
      const item = el("li", "document-hit");
      item.dataset.kind = kind;
      item.dataset.id = String(hit.id);
      const link = el("a", "document-link");
      link.href = hit.url;
      const snippet = el("p", "result-snippet");
      snippet.append(...snippetNodes(hit.snippet_html));
      link.append(el("span", "document-title", hit.title), snippet);
      item.append(link);
      items.append(item);
    }
    section.append(heading, items);
    return section;
  });
  documentsBox.replaceChildren(...sections);
  documentsBox.hidden = !sections.length;
}

function showExports(params, visible) {
  exportLinks.hidden = !(boot.exports && visible);
  for (const link of exportLinks.querySelectorAll("a[data-export-format]")) {
    const query = new URLSearchParams(params);
    query.set("format", link.dataset.exportFormat);
    link.href = `/api/v1/search/export?${query}`;
  }
}

function showEmpty(params) {
  const q = params.get("q");
  byId("search-empty-title").textContent = q
    ? format(strings.search_empty, { query: q })
    : strings.search_empty_filters;
  empty.hidden = false;
}

async function run(params, { append = false } = {}) {
  const mine = ++generation;
  const query = new URLSearchParams(params);
  query.set("limit", String(PAGE));
  if (append && cursor) query.set("cursor", cursor);
  setBusy(true);
  status.textContent = strings.search_loading;
  if (!append) showError("");
  try {
    const page = await api.get(`/search?${query}`);
    if (mine !== generation) return;
    const rows = page.results.map(resultItem);
    if (append) list.append(...rows);
    else list.replaceChildren(...rows);
    if (!append) showDocuments(page.documents);
    cursor = page.next_cursor;
    more.hidden = !cursor;
    const count = list.children.length;
    if (!count && documentsBox.hidden) showEmpty(params);
    status.textContent = count
      ? format(cursor ? strings.search_count_more : strings.search_count, { count })
      : "";
    showExports(params, count > 0);
    if (append && rows.length) {
      status.textContent = format(strings.search_more_loaded, { count: rows.length });
      rows[0].querySelector("a").focus();
    }
  } catch (error) {
    if (mine !== generation) return;
    if (error.status === 400 || error.status === 422) {
      // The query itself is wrong: say so next to the box, where it can be fixed.
      showError(error.message);
      list.replaceChildren();
      showDocuments([]);
      more.hidden = true;
      showExports(params, false);
      status.textContent = "";
    } else {
      status.textContent = error.message;
    }
  } finally {
    if (mine === generation) setBusy(false);
  }
}

/** Show the search of the page's address (at load, and on back/forward). */
function showAddress() {
  const params = paramsOfAddress();
  fillForm(params);
  shown = params.toString();
  document.title = params.get("q") ? `${params.get("q")} · ${pageTitle}` : pageTitle;
  list.replaceChildren();
  if (loaded) showDocuments([]); // at load, the page's own stay until the answer replaces them
  loaded = true;
  empty.hidden = true;
  more.hidden = true;
  cursor = null;
  showError("");
  intro.hidden = hasCriteria(params);
  if (hasCriteria(params)) {
    run(params);
  } else {
    generation += 1;
    status.textContent = "";
    showExports(params, false);
  }
}

/** Search what the form says: a new address (a history entry) unless it is the same. */
function searchFromForm({ again }) {
  const params = paramsOfForm();
  if (!again && params.toString() === shown) return;
  const address = params.toString() ? `/search?${params}` : "/search";
  if (address !== window.location.pathname + window.location.search) {
    window.history.pushState(null, "", address);
  }
  showAddress();
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  searchFromForm({ again: true });
});
// Filters apply as soon as they change; the words apply on Enter (the form's submit).
form.addEventListener("change", (event) => {
  showFilterCount();
  if (event.target !== input) searchFromForm({ again: false });
});
for (const id of ["filters-clear", "empty-clear-filters"]) {
  byId(id).addEventListener("click", () => {
    clearFilters();
    input.focus(); // the button that had the focus is hidden now
  });
}
filtersToggle.addEventListener("click", () => {
  const open = filtersToggle.getAttribute("aria-expanded") !== "true";
  filtersToggle.setAttribute("aria-expanded", String(open));
  filtersPanel.classList.toggle("open", open);
});
for (const token of document.querySelectorAll(".syntax-token")) {
  token.addEventListener("click", () => insertToken(token.dataset.insert));
}
more.addEventListener("click", () => {
  if (shown !== null) run(new URLSearchParams(shown), { append: true });
});
window.addEventListener("popstate", showAddress);
byId("filter-author").addEventListener("focus", suggestPeople);

function clearFilters() {
  for (const name of FILTERS) {
    const field = form.elements.namedItem(name);
    if (field.type === "checkbox") field.checked = false;
    else field.value = "";
  }
  showFilterCount();
  searchFromForm({ again: false });
}

/** Add a syntax token to the words; the caret lands where its value goes. */
function insertToken(token) {
  const before = input.value.trimEnd();
  input.value = before ? `${before} ${token}` : token;
  const caret = token === '""' ? input.value.length - 1 : input.value.length;
  input.focus();
  input.setSelectionRange(caret, caret);
}

showAddress();
new InboxBadge({ api, strings }).attach();
