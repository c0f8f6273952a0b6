// Entry point of the room page. Server contract: the #boot JSON block rendered by
// rooms/pages.py (room, me, staff, csrf_token, time_zone, language, page, last_message_id,
// heartbeat, strings), the #directory JSON block (users as in GET /api/v1/users) and the stream events of streams/endpoint.py: "message.posted",
// "presence.changed", "ready", "live", "resync", "room.joined", "room.left". A logged-out session is
// told by close code 4001 (see stream.js); "session.ended" frames name sessions of the same
// user on other devices too, so they are not acted on here.

import { makeApi } from "./api.js";
import { Composer } from "./composer.js";
import { makeConnectionBanner } from "./connection.js";
import { History } from "./history.js";
import { MessageList } from "./messages.js";
import { attachPanels } from "./panels.js";
import { PeoplePanel } from "./people.js";
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

const messages = new MessageList({
  list: byId("messages"),
  scroller: byId("timeline"),
  template: byId("message-template"),
  me,
  timeZone: boot.time_zone,
  language: boot.language,
  strings,
  onReleased: (message) => showMessage(message),
});
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
    case "presence.changed":
      people.applyChanges(event);
      break;
    case "ready":
      showLiveState(event.live);
      people.setOnlineSet(event.online_user_ids);
      composer.retryNow();
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
    case "room.left":
      if (event.room_id === roomId) window.location.assign("/");
      document.querySelector(`[data-room-link="${event.room_id}"]`)?.closest("li").remove();
      break;
    default:
      break;
  }
}

function addRoomLink(room) {
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
