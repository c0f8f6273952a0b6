// Entry point of the room page. Server contract: the #boot JSON block rendered by
// rooms/pages.py (room, me, staff, csrf_token, time_zone, language, page, last_message_id,
// heartbeat, strings, max_upload_bytes), the #directory JSON block (users as in GET /api/v1/users) and the stream events of streams/endpoint.py: "message.posted",
// "presence.changed", "ready", "live", "resync", "room.joined", "room.left", "room.opened", "room.renamed". A logged-out session is
// told by close code 4001 (see stream.js); "session.ended" frames name sessions of the same
// user on other devices too, so they are not acted on here.

import { makeApi } from "./api.js";
import { Composer } from "./composer.js";
import { Conversations } from "./conversations.js";
import { makeConnectionBanner } from "./connection.js";
import { LinkPreviews } from "./link_previews.js";
import { History } from "./history.js";
import { MessageActions } from "./message_actions.js";
import { MessageList } from "./messages.js";
import { attachPanels } from "./panels.js";
import { PeoplePanel } from "./people.js";
import { RoomMembers } from "./room_members.js";
import { Stream } from "./stream.js";
import { UnreadBadges } from "./unread.js";

const boot = JSON.parse(document.getElementById("boot").textContent);
const { strings, me } = boot;
const roomId = boot.room.id;
const api = makeApi(boot.csrf_token, strings.error);
const byId = (id) => document.getElementById(id);
const timelineStatus = byId("timeline-status");

function announce(text) {
  timelineStatus.textContent = "";
  setTimeout(() => { timelineStatus.textContent = text; }, 50);
}

const fullTime = new Intl.DateTimeFormat(boot.language === "en" ? "en-GB" : "zh-CN", {
  timeZone: boot.time_zone, year: "numeric", month: "2-digit", day: "2-digit",
  hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23",
});
const messageActions = new MessageActions({
  api,
  me,
  strings,
  editWindowSeconds: boot.edit_window_seconds,
  editsAnyMessage: boot.edits_any_message,
  seesHistory: boot.sees_message_history,
  announce,
  formatTime: (iso) => fullTime.format(new Date(iso)),
});
const linkPreviews = new LinkPreviews(boot.link_preview_hosts, api);
const messages = new MessageList({
  list: byId("messages"),
  scroller: byId("timeline"),
  template: byId("message-template"),
  me,
  timeZone: boot.time_zone,
  language: boot.language,
  strings,
  onReleased: (message) => showMessage(message),
  announce,
  actions: messageActions,
  bodyEnhancers: [(body) => linkPreviews.enhance(body)],
});
messageActions.attach(messages);
const history = new History({
  roomId,
  api,
  messages,
  olderButton: byId("load-older"),
  latestButton: byId("back-to-latest"),
  jumpForm: byId("jump-form"),
  announce,
  strings,
});
const people = new PeoplePanel({
  container: byId("people-list"),
  counters: document.querySelectorAll("[data-online-count]"),
  users: JSON.parse(document.getElementById("directory").textContent),
  me,
  timeZone: boot.time_zone,
  language: boot.language,
  strings,
});
const unread = new UnreadBadges({
  api, me, roomId, lastMessageId: boot.last_message_id, strings,
});
const composer = new Composer({
  form: byId("composer"),
  input: byId("composer-input"),
  errorBox: byId("composer-error"),
  counter: byId("composer-count"),
  roomId,
  me,
  api,
  messages,
  onSent: (message) => unread.markRead(message.id),
  strings,
  tools: byId("composer-tools"),
  csrfToken: boot.csrf_token,
  maxUploadBytes: boot.max_upload_bytes,
});

function showMessage(message) {
  if (message.room_id === roomId && history.live) {
    if (messages.hold(message)) return;
    const added = messages.addLive(message);
    if (added && !messages.nearBottom()) history.noteUnseenBelow();
    unread.noteMessage(message, messages.nearBottom());
  } else if (message.room_id !== roomId) {
    unread.noteMessage(message, false);
  }
}

const setStatus = makeConnectionBanner(byId("connection-status"), strings, () => {
  setTimeout(() => window.location.assign("/login"), 1500);
});

// While the servers' live fan-out (Redis) is away they poll the database for us.
function showLiveState(state) {
  byId("live-status").textContent = state === "degraded" ? strings.live_degraded : "";
}

function onEvent(event) {
  switch (event.type) {
    case "message.posted":
      showMessage(event.message);
      break;
    case "message.edited":
      messages.update(event.message);
      break;
    case "message.deleted":
      if (event.message) messages.update(event.message);
      else messages.remove(event.message_id);
      break;
    case "presence.changed":
      people.applyChanges(event);
      break;
    case "ready":
      showLiveState(event.live);
      people.setOnlineSet(event.online_user_ids);
      composer.retryNow();
      if (connectedBefore) refreshShownMessages();
      connectedBefore = true;
      break;
    case "live":
      showLiveState(event.state);
      break;
    case "resync":
      history.setLive(false);
      history.showLatest();
      break;
    case "room.joined":
      addRoomLink(event.room);
      break;
    case "room.opened":
      conversations.roomOpened(event.room);
      break;
    case "room.renamed":
      conversations.roomRenamed(event.room, roomId);
      break;
    case "room.left":
      if (event.room_id === roomId) window.location.assign("/");
      document.querySelector(`[data-room-link="${event.room_id}"]`)?.closest("li").remove();
      break;
    default:
      break;
  }
}

// Edits and deletions made while this tab was offline are not replayed: after a reconnect,
// the newest page is fetched again and the rows it changes are brought up to date.
let connectedBefore = false;
async function refreshShownMessages() {
  if (!history.live) return; // the latest page is loaded afresh on the way back
  const before = messages.shownIds();
  try {
    const page = await api.get(`/rooms/${roomId}/messages`);
    messages.refresh(page.messages, { before, complete: !page.has_more });
  } catch {
    // the next reconnect tries again
  }
}

function addRoomLink(room) {
  if (conversations.add(room)) return;
  if (document.querySelector(`[data-room-link="${room.id}"]`)) return;
  const item = byId("room-link-template").content.firstElementChild.cloneNode(true);
  const link = item.querySelector("a");
  link.href = `/rooms/${room.id}`;
  link.dataset.roomLink = room.id;
  link.querySelector(".room-name").textContent = room.name;
  link.querySelector(".badge").dataset.unread = room.id;
  document.querySelector(".room-list").append(item);
  document.querySelector(`[data-join-room="${room.id}"]`)?.closest("li").remove();
}

function caughtUpIfAtEnd() {
  if (!document.hidden && history.live && messages.nearBottom()) unread.caughtUp(messages.newestId);
}

const conversations = new Conversations({
  api, me, users: JSON.parse(document.getElementById("directory").textContent), strings, announce,
});
conversations.attach();
new RoomMembers({ roomId, api, strings }).attach();

history.attach(boot.page);
people.render();
composer.attach();
attachPanels();
unread.caughtUp(messages.newestId);
unread.fetchCounts();
messages.scroller.addEventListener("scroll", caughtUpIfAtEnd, { passive: true });
document.addEventListener("visibilitychange", caughtUpIfAtEnd);

const stream = new Stream({
  lastMessageId: boot.last_message_id,
  heartbeat: boot.heartbeat,
  onEvent,
  onStatus: setStatus,
});
stream.start();
window.addEventListener("pageshow", (event) => {
  if (event.persisted) window.location.reload();
});

for (const button of document.querySelectorAll("[data-join-room]")) {
  button.addEventListener("click", async () => {
    try {
      const room = await api.put(`/rooms/${button.dataset.joinRoom}/membership`);
      window.location.assign(`/rooms/${room.id}`);
    } catch (error) {
      announce(error.message);
    }
  });
}
