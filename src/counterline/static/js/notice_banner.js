// Notices still to acknowledge (notices/), shown until acted on: a banner under the top bar of
// the room page, a "Notices to acknowledge" section at the top of the inbox page. Server
// contract: GET /api/v1/notices?open=true → {"notices": [{"id", "title", "due_at", "status",
// ...}]}, newest first. Live: the page's stream (stream.js re-dispatches every frame as a
// "counterline:stream" window event) says "notice.assigned" (a notice or a revision asking
// again reached the reader) and "notice.completed" (done in some tab); the list is then loaded
// again (and a hidden tab shows a desktop notification). Strings, time zone and notification
// level come from the page's boot JSON.

import { makeApi } from "./api.js";

const boot = JSON.parse(document.getElementById("boot").textContent);
const { strings } = boot;
const api = makeApi(boot.csrf_token, strings.error);
const onInbox = document.body.classList.contains("inbox-page");
const timeFormat = new Intl.DateTimeFormat(boot.language === "en" ? "en-GB" : "zh-CN", {
  timeZone: boot.time_zone, month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23",
});

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function fill(template, values) {
  return template.replace(/%\((\w+)\)s/g, (_, name) => String(values[name] ?? ""));
}

// The region, made once: inside <main> on the inbox page, right under the top bar elsewhere.
function region() {
  let node = document.getElementById("notice-banner");
  if (node) return node;
  node = el("section", onInbox ? "notice-section" : "notice-banner");
  node.id = "notice-banner";
  node.setAttribute("aria-labelledby", "notice-banner-title");
  node.hidden = true;
  const main = document.querySelector("main");
  if (onInbox && main) {
    const head = main.querySelector(".inbox-head");
    main.insertBefore(node, head ? head.nextSibling : main.firstChild);
  } else {
    const topbar = document.querySelector("header.topbar");
    if (topbar) topbar.after(node);
    else document.body.prepend(node);
  }
  return node;
}

function render(notices) {
  const node = region();
  node.replaceChildren();
  node.hidden = notices.length === 0;
  if (!notices.length) return;
  const title = el(onInbox ? "h2" : "p", "notice-banner-title",
    onInbox ? strings.notices_to_ack : fill(strings.notices_banner, { count: notices.length }));
  title.id = "notice-banner-title";
  const list = el("ul", "notice-banner-list");
  for (const notice of notices) {
    const row = el("li", notice.status === "overdue" ? "notice-item overdue" : "notice-item");
    const link = el("a", "notice-link", notice.title);
    link.href = `/notices/${notice.id}`;
    const due = el("span", "notice-due",
      notice.status === "overdue" ? strings.notices_overdue
        : fill(strings.notices_due, { time: timeFormat.format(new Date(notice.due_at)) }));
    row.append(link, " ", due);
    list.append(row);
  }
  node.append(title, list);
}

let loading = null;
async function load() {
  if (loading) return loading;
  loading = api.get("/notices?open=true")
    .then((data) => render(data.notices))
    .catch(() => {}) // the banner waits for the next event; the page works without it
    .finally(() => { loading = null; });
  return loading;
}

// A notice (or a reminder) for a reader who is elsewhere: a desktop notification, when this
// browser allows them (the reader enabled them on the room page, notifications.js) and her
// level is not "none". Clicking it opens the notice.
function notify(frame) {
  const level = boot.notifications && boot.notifications.level;
  if (!("Notification" in window) || Notification.permission !== "granted") return;
  if (!document.hidden || level === "none") return;
  const shown = new Notification(frame.notice.title, {
    body: strings.notices_to_ack, tag: `notice-${frame.notice.id}`,
  });
  shown.addEventListener("click", () => {
    window.focus();
    window.location.assign(`/notices/${frame.notice.id}`);
  });
}

window.addEventListener("counterline:stream", (event) => {
  const type = event.detail && event.detail.type;
  if (type === "notice.assigned") notify(event.detail);
  if (type === "notice.assigned" || type === "notice.completed" || type === "ready") load();
});
load();
