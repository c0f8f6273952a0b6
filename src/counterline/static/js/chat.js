// Entry point of the room page. Server contract: the #boot JSON block rendered by
// rooms/pages.py (room, me, staff, csrf_token, time_zone, language, page, last_message_id,
// heartbeat, strings, max_upload_bytes), the staff directory (GET /api/v1/users, directory.js) and the stream events of streams/endpoint.py: "message.posted",
// "presence.changed", "ready", "live", "resync", "room.joined", "room.left", "room.opened", "room.renamed",
// "room.read" (unread.js; boot.room.unread/last_read_id, boot.notifications). A logged-out session is
// told by close code 4001 (see stream.js); "session.ended" frames name sessions of the same
// user on other devices too, so they are not acted on here.

import { makeApi } from "./api.js";
import { Composer } from "./composer.js";
import { Conversations } from "./conversations.js";
import { directory } from "./directory.js";
import { FaqSuggestions } from "./faq_suggestions.js";
import { makeConnectionBanner } from "./connection.js";
import { LinkPreviews } from "./link_previews.js";
import { History } from "./history.js";
import { InboxBadge } from "./inbox_badge.js";
import { MessageActions } from "./message_actions.js";
import { MentionPicker } from "./mentions.js";
import { MessageList } from "./messages.js";
import { Notifier } from "./notifications.js";
import { attachPanels } from "./panels.js";
import { PeoplePanel } from "./people.js";
import { Questions } from "./questions.js";
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
// Mentions of the reader, her branch or role, or everyone stand out (inbox.css .mention-me).
function markMentionsOfMe(body) {
  for (const mention of body.querySelectorAll(".mention[data-mention-kind]")) {
    const { mentionKind: kind, mention: name } = mention.dataset;
    const mine = (kind === "user" && name === me.username) || (kind === "branch" && name === me.branch_name)
      || (kind === "role" && name === me.role) || kind === "all";
    mention.classList.toggle("mention-me", mine);
  }
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
  announce,
  actions: messageActions,
  bodyEnhancers: [(body) => linkPreviews.enhance(body), markMentionsOfMe],
});
messageActions.attach(messages);
new Questions({ api, roomId, me, strings, actions: messageActions, messages, announce }).attach();
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
  me,
  timeZone: boot.time_zone,
  language: boot.language,
  strings,
});
const unread = new UnreadBadges({
  api, csrfToken: boot.csrf_token, me, room: boot.room, list: byId("messages"), strings,
  onChange: () => inboxBadge.refreshSoon(),
});
const inboxBadge = new InboxBadge({ api, strings });
const notifier = new Notifier({ api, me, room: boot.room, settings: boot.notifications, strings });
const composer = new Composer({
  form: byId("composer"),
  input: byId("composer-input"),
  errorBox: byId("composer-error"),
  counter: byId("composer-count"),
  roomId,
  me,
  api,
  messages,
  onSent: (message) => unread.noteMessage(message),
  strings,
  tools: byId("composer-tools"),
  csrfToken: boot.csrf_token,
  maxUploadBytes: boot.max_upload_bytes,
  mentionAllTokens: boot.mention_all_tokens,
});

function showMessage(message) {
  if (message.room_id === roomId && history.live) {
    if (messages.hold(message)) return;
    const added = messages.addLive(message);
    if (added && !messages.nearBottom()) history.noteUnseenBelow();
    if (added) unread.noteMessage(message);
  } else {
    unread.noteMessage(message);
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
      notifier.noteMessage(event.message);
      break;
    case "message.edited":
      messages.update(event.message);
      break;
    case "message.deleted":
      if (event.message) messages.update(event.message);
      else messages.remove(event.message_id);
      break;
    case "presence.changed":
      afterPeople(() => people.applyChanges(event));
      break;
    case "ready":
      showLiveState(event.live);
      afterPeople(() => people.setOnlineSet(event.online_user_ids));
      composer.retryNow();
      if (connectedBefore) {
        refreshShownMessages();
        unread.refresh();
      }
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
    case "room.read":
      unread.applyRead(event);
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

// In a 1:1 conversation with someone offline, the box says they will see it when they log in.
const composerInput = byId("composer-input");
const usualPlaceholder = composerInput.placeholder;
function placeholderForOffline() {
  const others = (boot.room.members || []).filter((member) => member.id !== me.id);
  const other = others.length === 1 ? people.users.get(others[0].id) : null;
  composerInput.placeholder = other && !other.online
    ? strings.dm_offline_placeholder.replace("%(name)s", other.display_name) : usualPlaceholder;
}

const conversations = new Conversations({ api, me, strings, announce });
conversations.attach();
new RoomMembers({ roomId, api, strings }).attach();

history.attach(boot.page);
composer.attach();
new FaqSuggestions({ api, input: byId("composer-input"), strings }).attach();
const mentions = new MentionPicker({ input: byId("composer-input"), me, strings });
mentions.attach();
// The people panel, mentions and the new-message dialog fill in when the directory arrives.
const peopleLoaded = directory(api).then((users) => {
  people.setUsers(users);
  mentions.setUsers(users);
  conversations.setUsers(users);
  placeholderForOffline();
}, (error) => announce(error.message));
/** Presence frames update the directory: applied after it, in the order they came. */
function afterPeople(change) {
  peopleLoaded.then(() => {
    change();
    placeholderForOffline();
  });
}
attachPanels();
// /rooms/{id}?at=<message id> (the inbox's links) opens at that message; read marks start after.
const openAt = Number(new URLSearchParams(window.location.search).get("at"));
(openAt > 0 ? history.openAt(openAt) : Promise.resolve()).then(() => unread.attach());
unread.showAwayNotice(byId("away-notice"));
unread.offerMarkAll(byId("mark-all-read"));
inboxBadge.attach();
notifier.attach();
placeholderForOffline();

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
