// Entry point of the room page. Server contract: the #boot JSON block (room, me,
// csrf_token, time_zone, language, page, users, strings) rendered by web/routes.py,
// and the stream events listed in realtime/routes.py.

import { makeApi } from "./api.js";
import { Composer } from "./composer.js";
import { MessageList } from "./messages.js";
import { PeoplePanel } from "./people.js";
import { Stream } from "./stream.js";

const boot = JSON.parse(document.getElementById("boot").textContent);
const { strings } = boot;
const api = makeApi(boot.csrf_token, strings.error);
const roomId = boot.room.id;

const messages = new MessageList({
  list: document.getElementById("messages"),
  template: document.getElementById("message-template"),
  roomId,
  timeZone: boot.time_zone,
  language: boot.language,
  strings,
  api,
});
const people = new PeoplePanel({
  container: document.getElementById("people-list"),
  counter: document.getElementById("online-count"),
  users: boot.users,
  me: boot.me,
  timeZone: boot.time_zone,
  language: boot.language,
  strings,
});
const statusLine = document.getElementById("connection-status");
const olderButton = document.getElementById("load-older");
const latestButton = document.getElementById("back-to-latest");

function setStatus(state) {
  document.body.dataset.connection = state;
  const text = { connecting: strings.connecting, reconnecting: strings.reconnecting,
    ended: strings.session_ended }[state];
  statusLine.hidden = !text;
  statusLine.textContent = text || "";
  if (state === "ended") window.location.assign("/login");
}

function setHasOlder(hasMore) {
  olderButton.disabled = !hasMore;
  olderButton.textContent = hasMore ? strings.load_older : strings.no_older;
}

function bumpUnread(otherRoomId) {
  const badge = document.querySelector(`[data-unread="${otherRoomId}"]`);
  if (!badge) return;
  badge.hidden = false;
  badge.textContent = String(Number(badge.textContent || 0) + 1);
}

function onEvent(event) {
  switch (event.type) {
    case "message.posted":
      if (event.message.room_id !== roomId) {
        bumpUnread(event.message.room_id);
      } else if (messages.atLiveEdge) {
        const follow = messages.nearBottom();
        messages.add(event.message);
        if (follow) messages.scrollToEnd();
      }
      break;
    case "presence.changed":
      people.setOnline(event.user_id, event.online, event.last_seen_at);
      break;
    case "ready":
      people.setOnlineSet(event.online_user_ids);
      break;
    case "resync":
      messages.showLatest().then((page) => setHasOlder(page.has_more));
      break;
    case "room.joined":
    case "room.left":
      break;
    default:
      break;
  }
}

messages.showPage(boot.page.messages);
messages.scrollToEnd();
setHasOlder(boot.page.has_more);
people.render();

const newestOnPage = boot.page.messages.reduce((max, m) => Math.max(max, m.id), 0);
const stream = new Stream({ lastMessageId: newestOnPage, onEvent, onStatus: setStatus });
stream.start();

new Composer({
  form: document.getElementById("composer"),
  input: document.getElementById("composer-input"),
  errorBox: document.getElementById("composer-error"),
  roomId,
  me: boot.me,
  api,
  messages,
  strings,
}).attach();

olderButton.addEventListener("click", async () => {
  const page = await messages.loadOlder();
  setHasOlder(page.has_more);
});
messages.list.addEventListener("scroll", async () => {
  if (messages.list.scrollTop === 0 && !olderButton.disabled && messages.atLiveEdge) {
    olderButton.click();
  }
  if (!messages.atLiveEdge && messages.nearBottom() && !messages.loadingNewer) {
    messages.loadingNewer = true;
    const page = await messages.loadNewer();
    messages.loadingNewer = false;
    if (!page.has_more) {
      messages.atLiveEdge = true;
      latestButton.hidden = true;
    }
  }
});

document.getElementById("jump-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const day = document.getElementById("jump-date").value;
  if (!day) return;
  const page = await messages.jumpToDay(day);
  messages.atLiveEdge = !page.has_more;
  latestButton.hidden = messages.atLiveEdge;
  setHasOlder(true);
  if (!page.messages.length) statusLine.textContent = strings.no_messages_that_day;
});
latestButton.addEventListener("click", async () => {
  const page = await messages.showLatest();
  messages.atLiveEdge = true;
  latestButton.hidden = true;
  setHasOlder(page.has_more);
});

for (const button of document.querySelectorAll("[data-join-room]")) {
  button.addEventListener("click", async () => {
    const room = await api.put(`/rooms/${button.dataset.joinRoom}/membership`);
    window.location.assign(`/rooms/${room.id}`);
  });
}
for (const select of document.querySelectorAll("select[data-autosubmit]")) {
  select.addEventListener("change", () => select.form.submit());
}
