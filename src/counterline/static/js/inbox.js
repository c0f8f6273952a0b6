// The inbox page ("For me", templates/inbox/inbox.html). Server contract: GET
// /api/v1/inbox?unread=true|false&before=<cursor>&limit=n → {"items": [{"message", "room":
// {"id", "name", "kind"}, "reasons": [...], "unread": bool}], "has_more", "next_before"},
// newest first; GET /api/v1/inbox/count → {"unread": n}. Each item links to its place in the
// room (/rooms/{room id}?at=<message id>, history.js), where reading it moves the read position.
// Live: the stream (stream.js, from boot.last_message_id) tells of messages that may be for the
// reader (any with mentions; any in a room not in boot.topic_room_ids: a conversation) and of
// read positions, edits and deletions; the newest page is then loaded again and merged in.

import { makeApi } from "./api.js";
import { makeConnectionBanner } from "./connection.js";
import { enhanceBody } from "./message_content.js";
import { Stream } from "./stream.js";

const PAGE = 30;
const GATHER_MS = 300;
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
let refreshTimer = null;
const topicRooms = new Set(boot.topic_room_ids);

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

/** Load the newest page again and put it in place of the rows it covers: new items on top,
 * read or deleted ones updated, older pages already shown kept below. */
async function refresh() {
  if (loading) {
    refreshSoon();
    return;
  }
  loading = true;
  try {
    const query = new URLSearchParams({ unread: String(unreadOnly.checked), limit: String(PAGE) });
    const page = await api.get(`/inbox?${query}`);
    const oldest = page.has_more ? page.items[page.items.length - 1].message.id : 0;
    const kept = [...list.children].filter((row) => Number(row.dataset.messageId) < oldest);
    const focused = document.activeElement?.closest("#inbox-list > li")?.dataset.messageId;
    list.replaceChildren(...page.items.map(item), ...kept);
    if (focused) list.querySelector(`li[data-message-id="${focused}"] a`)?.focus();
    if (!kept.length) {
      cursor = page.next_before;
      more.hidden = !page.has_more;
    }
    status.textContent = list.children.length ? "" : strings.inbox_empty;
  } catch {
    // shown again on the next change
  } finally {
    loading = false;
  }
}

function refreshSoon() {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(() => {
    refresh();
    count();
  }, GATHER_MS);
}

function mayBeForMe(message) {
  return (message.mentions?.length ?? 0) > 0 || !topicRooms.has(message.room_id);
}

function onEvent(event) {
  switch (event.type) {
    case "message.posted":
      if (mayBeForMe(event.message)) refreshSoon();
      break;
    case "room.read":
    case "message.edited":
    case "message.deleted":
      refreshSoon();
      break;
    case "room.joined":
      if (event.room?.kind !== "conversation" && event.room?.id) topicRooms.add(event.room.id);
      break;
    case "ready":
      if (event.last_message_id > boot.last_message_id) refreshSoon(); // missed while away
      break;
    default:
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
new Stream({
  lastMessageId: boot.last_message_id,
  heartbeat: boot.heartbeat,
  onEvent,
  onStatus: makeConnectionBanner(document.getElementById("connection-status"), strings, () => {
    setTimeout(() => window.location.assign("/login"), 1500);
  }),
}).start();
