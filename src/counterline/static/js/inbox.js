// The inbox page ("For me", templates/inbox/inbox.html). Server contract: GET
// /api/v1/inbox?unread=true|false&before=<cursor>&limit=n → {"items": [{"message", "room":
// {"id", "name", "kind"}, "reasons": [...], "unread": bool}], "has_more", "next_before"},
// newest first; GET /api/v1/inbox/count → {"unread": n}. Each item links to its place in the
// room (/rooms/{room id}?at=<message id>, history.js), where reading it moves the read position.

import { makeApi } from "./api.js";
import { enhanceBody } from "./message_content.js";

const PAGE = 30;
// The reasons the server gives (inbox/), each with its chip's string.
const REASONS = {
  direct: "reason_direct",
  dm: "reason_direct",
  conversation: "reason_direct",
  user: "reason_me",
  me: "reason_me",
  mention: "reason_me",
  mention_me: "reason_me",
  branch: "reason_branch",
  mention_branch: "reason_branch",
  role: "reason_role",
  mention_role: "reason_role",
  all: "reason_all",
  mention_all: "reason_all",
};

const boot = JSON.parse(document.getElementById("boot").textContent);
const { strings } = boot;
const api = makeApi(boot.csrf_token, strings.error);
const list = document.getElementById("inbox-list");
const more = document.getElementById("inbox-more");
const status = document.getElementById("inbox-status");
const unreadOnly = document.getElementById("inbox-unread-only");
const timeFormat = new Intl.DateTimeFormat(boot.language === "en" ? "en-GB" : "zh-CN", {
  timeZone: boot.time_zone, month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23",
});
let cursor = null;
let loading = false;

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function item({ message, room, reasons, unread }) {
  const row = el("li", unread ? "inbox-item unread" : "inbox-item");
  row.dataset.messageId = String(message.id);
  row.dataset.roomId = String(room.id);
  const meta = el("div", "inbox-meta");
  const time = el("time", "inbox-time", timeFormat.format(new Date(message.created_at)));
  time.dateTime = message.created_at;
  meta.append(
    el("span", "inbox-room", room.name),
    el("span", "inbox-author", message.author.display_name),
    time,
  );
  if (unread) meta.append(el("span", "visually-hidden", strings.inbox_unread_item));
  const chips = el("ul", "inbox-chips");
  chips.setAttribute("aria-label", strings.inbox_reasons);
  for (const reason of new Set(reasons.map((name) => REASONS[name] || name))) {
    chips.append(el("li", `chip chip-${reason.replace("reason_", "")}`, strings[reason] || reason));
  }
  const body = el("div", "inbox-body");
  body.innerHTML = message.html ?? message.body_html ?? ""; // sanitised on the server (nh3)
  enhanceBody(body, { strings, language: boot.language, announce: () => {} });
  for (const mention of body.querySelectorAll(".mention[data-mention-kind='user']")) {
    mention.classList.toggle("mention-me", mention.dataset.mention === boot.me.username);
  }
  const open = el("a", "inbox-open", strings.inbox_open);
  open.href = `/rooms/${room.id}?at=${message.id}`;
  open.setAttribute("aria-label", strings.inbox_open_in.replace("%(room)s", room.name));
  row.append(meta, chips, body, open);
  return row;
}

async function load({ fresh }) {
  if (loading) return;
  loading = true;
  if (fresh) cursor = null;
  status.textContent = strings.loading;
  try {
    const query = new URLSearchParams({ unread: String(unreadOnly.checked), limit: String(PAGE) });
    if (cursor !== null) query.set("before", cursor);
    const page = await api.get(`/inbox?${query}`);
    const rows = page.items.map(item);
    if (fresh) list.replaceChildren(...rows);
    else list.append(...rows);
    cursor = page.next_before;
    more.hidden = !page.has_more;
    status.textContent = list.children.length ? "" : strings.inbox_empty;
  } catch (error) {
    status.textContent = error.message;
  } finally {
    loading = false;
  }
}

async function count() {
  try {
    const { unread } = await api.get("/inbox/count");
    for (const badge of document.querySelectorAll("[data-inbox-count]")) {
      badge.hidden = !unread;
      badge.textContent = unread ? String(unread > 99 ? "99+" : unread) : "";
      badge.title = strings.inbox_unread.replace("%(count)s", unread);
    }
  } catch {
    // the badge stays as it was
  }
}

unreadOnly.addEventListener("change", () => load({ fresh: true }));
more.addEventListener("click", () => load({ fresh: false }));
// Coming back from a room (the back button) shows what was read there.
window.addEventListener("pageshow", (event) => {
  if (event.persisted) {
    load({ fresh: true });
    count();
  }
});
load({ fresh: true });
count();
