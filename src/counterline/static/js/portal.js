// The portal page (templates/portal/portal.html). Server contract: GET /api/v1/portal →
// {"entries": [{"id", "name", "description", "category", "kind": "web"|"client", "url",
// "icon_url", "check": {"status": "up"|"slow"|"down"|"unknown", "checked_at",
// "status_since", "response_ms", "detail"}, "favourite", "uses"}], "check_seconds"}, favourites
// first in the user's order, then the most used, then by position; PUT /api/v1/portal/favourites
// {"entry_ids": [...]} (answers the same as GET); POST /api/v1/portal/{id}/opened counts a use.
// The list is asked again every boot.refresh_seconds, so statuses stay current.

import { makeApi } from "./api.js";

const boot = JSON.parse(document.getElementById("boot").textContent);
const { strings } = boot;
const api = makeApi(boot.csrf_token, strings.error);
const groups = document.getElementById("portal-groups");
const status = document.getElementById("portal-status");
let entries = [];

function fill(template, values) {
  return template.replace(/%\((\w+)\)s/g, (_, key) => values[key] ?? "");
}

function localTime(iso) {
  if (!iso) return "";
  const options = { timeZone: boot.time_zone, hour: "2-digit", minute: "2-digit", month: "2-digit", day: "2-digit", hour12: false };
  try {
    return new Intl.DateTimeFormat(document.documentElement.lang || "zh-CN", options).format(new Date(iso));
  } catch {
    return iso;
  }
}

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function badge(entry) {
  const check = entry.check;
  const wrap = element("p", "portal-check-line");
  const label = element("span", `portal-badge portal-${check.status}`, strings[`status_${check.status}`]);
  label.dataset.status = check.status;
  wrap.append(label);
  if (check.status === "down" && check.status_since) {
    wrap.append(" ", element("span", "portal-when", fill(strings.down_since, { time: localTime(check.status_since) })));
  } else if (check.checked_at) {
    wrap.append(" ", element("span", "portal-when", fill(strings.checked_at, { time: localTime(check.checked_at) })));
  }
  return wrap;
}

function card(entry, favouriteIndex, favouriteCount) {
  const item = element("li", "portal-card");
  item.dataset.entryId = entry.id;
  const link = element("a", "portal-open");
  link.href = entry.url;
  if (entry.kind === "web") {
    link.target = "_blank";
    link.rel = "noopener noreferrer";
  }
  if (entry.icon_url) {
    const icon = element("img", "portal-icon");
    icon.src = entry.icon_url;
    icon.alt = "";
    link.append(icon);
  } else {
    link.append(element("span", "portal-icon portal-icon-none", entry.name.slice(0, 1)));
  }
  const name = element("span", "portal-name", entry.name);
  link.append(name);
  if (entry.kind === "web") link.append(element("span", "visually-hidden", strings.opens_new_tab));
  link.addEventListener("click", () => {
    api.post(`/portal/${entry.id}/opened`).catch(() => {});
  });
  item.append(link);
  if (entry.description) item.append(element("p", "portal-description", entry.description));
  if (entry.kind === "web") item.append(badge(entry));
  else item.append(element("p", "portal-hint", strings.client_hint));

  const tools = element("div", "portal-tools");
  const star = element("button", "portal-star", entry.favourite ? "★" : "☆");
  star.type = "button";
  star.setAttribute("aria-pressed", String(entry.favourite));
  star.setAttribute("aria-label", fill(entry.favourite ? strings.favourite_remove : strings.favourite_add, { name: entry.name }));
  star.addEventListener("click", () => toggleFavourite(entry));
  tools.append(star);
  if (favouriteIndex !== null) {
    const up = element("button", "portal-move", "↑");
    up.type = "button";
    up.setAttribute("aria-label", fill(strings.move_up, { name: entry.name }));
    up.disabled = favouriteIndex === 0;
    up.addEventListener("click", () => move(entry, -1));
    const down = element("button", "portal-move", "↓");
    down.type = "button";
    down.setAttribute("aria-label", fill(strings.move_down, { name: entry.name }));
    down.disabled = favouriteIndex === favouriteCount - 1;
    down.addEventListener("click", () => move(entry, 1));
    tools.append(up, down);
  }
  item.append(tools);
  return item;
}

function section(title, items, favourites) {
  const block = element("section", "portal-group");
  const heading = element("h2", "portal-group-title", title);
  block.append(heading);
  const list = element("ul", "portal-cards");
  items.forEach((entry, index) => list.append(card(entry, favourites ? index : null, items.length)));
  block.append(list);
  return block;
}

function draw(focusId) {
  groups.replaceChildren();
  if (!entries.length) {
    groups.append(element("p", "portal-empty", strings.empty));
    return;
  }
  const favourites = entries.filter((entry) => entry.favourite);
  if (favourites.length) groups.append(section(strings.favourites, favourites, true));
  const byCategory = new Map();
  for (const entry of entries) {
    if (entry.favourite) continue;
    const key = entry.category || "";
    if (!byCategory.has(key)) byCategory.set(key, []);
    byCategory.get(key).push(entry);
  }
  const names = [...byCategory.keys()].sort((a, b) => (a === "" ? 1 : b === "" ? -1 : a.localeCompare(b)));
  for (const name of names) groups.append(section(name || strings.other, byCategory.get(name), false));
  if (focusId) {
    const target = groups.querySelector(`[data-entry-id="${focusId.id}"] ${focusId.selector}`);
    if (target && !target.disabled) target.focus();
    else groups.querySelector(`[data-entry-id="${focusId.id}"] .portal-star`)?.focus();
  }
}

async function saveFavourites(ids, focus) {
  try {
    const data = await api.put("/portal/favourites", { entry_ids: ids });
    entries = data.entries;
    status.textContent = strings.saved;
    draw(focus);
  } catch (error) {
    status.textContent = error.message;
  }
}

function favouriteIds() {
  return entries.filter((entry) => entry.favourite).map((entry) => entry.id);
}

function toggleFavourite(entry) {
  const ids = favouriteIds();
  const next = entry.favourite ? ids.filter((id) => id !== entry.id) : [...ids, entry.id];
  saveFavourites(next, { id: entry.id, selector: ".portal-star" });
}

function move(entry, step) {
  const ids = favouriteIds();
  const at = ids.indexOf(entry.id);
  const to = at + step;
  if (at < 0 || to < 0 || to >= ids.length) return;
  [ids[at], ids[to]] = [ids[to], ids[at]];
  saveFavourites(ids, { id: entry.id, selector: step < 0 ? ".portal-move:first-of-type" : ".portal-move:last-of-type" });
}

async function load() {
  try {
    const data = await api.get("/portal");
    const shape = (list) => list.map((entry) => `${entry.id}:${entry.favourite}:${entry.name}:${entry.url}`).join();
    const same = entries.length > 0 && shape(entries) === shape(data.entries);
    entries = data.entries;
    if (!same) {
      draw(null);
      return;
    }
    // Only the statuses changed: update them in place, where the reader's focus stays.
    for (const entry of entries) {
      const old = groups.querySelector(`[data-entry-id="${entry.id}"] .portal-check-line`);
      if (old) old.replaceWith(badge(entry));
    }
  } catch (error) {
    status.textContent = error.message;
  }
}

load();
setInterval(load, Math.max(10, boot.refresh_seconds) * 1000);
