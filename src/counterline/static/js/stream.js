// Server contract: WebSocket /api/v1/stream?last_message_id=N (streams/endpoint.py). The server
// replays every message after N in the user's rooms, then sends {"type":"ready",
// "last_message_id", "online_user_ids"} and live events. We send {"type":"ping"} every
// heartbeat.ping_seconds (boot JSON; COUNTERLINE_CLIENT_PING_SECONDS, 10 s) and expect
// {"type":"pong"} or any other frame within heartbeat.pong_timeout_seconds (5 s); a handshake
// gets twice that to open. A cut network closes nothing, so silence means a dead link: we drop
// the socket and reconnect. The server closes sockets silent for 45 s (4002). Close codes 4001
// (session ended) and 4403 (forbidden) end the page; any other close reconnects with backoff
// from the last id seen.

const FIRST_RETRY_MS = 400;
const MAX_RETRY_MS = 15000;
const ENDING_CODES = new Set([4001, 4403]);
const CLOSE_SILENT = 4000;
const PING = JSON.stringify({ type: "ping" });

export class Stream {
  constructor({ lastMessageId, heartbeat, onEvent, onStatus }) {
    Object.assign(this, { lastMessageId, onEvent, onStatus });
    this.pingMs = heartbeat.ping_seconds * 1000;
    this.pongTimeoutMs = heartbeat.pong_timeout_seconds * 1000;
    this.openTimeoutMs = 2 * this.pongTimeoutMs;
    this.attempt = 0;
    this.socket = null; // null while waiting to reconnect
    this.beat = null; // the one heartbeat timer: next ping, or the deadline of an answer
    this.awaitingAnswer = false;
    this.stopped = false;
  }

  start() {
    this.connect();
    window.addEventListener("online", () => this.reconnectNow());
    document.addEventListener("visibilitychange", () => {
      if (!document.hidden) this.reconnectNow();
    });
    window.addEventListener("pagehide", () => this.stop());
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.beat);
    clearTimeout(this.timer);
    if (this.socket) this.socket.close(1000);
  }

  connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const url = `${scheme}://${location.host}/api/v1/stream?last_message_id=${this.lastMessageId}`;
    const socket = new WebSocket(url);
    this.socket = socket;
    this.onStatus(this.attempt === 0 ? "connecting" : "reconnecting");
    // A cut network can swallow the handshake without ever failing it.
    this.beat = setTimeout(() => this.abandon(socket), this.openTimeoutMs);
    socket.addEventListener("open", () => this.opened(socket));
    socket.addEventListener("message", (event) => {
      if (socket === this.socket) this.receive(event.data);
    });
    socket.addEventListener("close", (event) => this.closed(socket, event.code));
  }

  opened(socket) {
    if (socket !== this.socket) return;
    this.awaitingAnswer = false;
    this.schedulePing(socket);
  }

  schedulePing(socket) {
    clearTimeout(this.beat);
    this.beat = setTimeout(() => this.ping(socket), this.pingMs);
  }

  ping(socket) {
    if (socket !== this.socket || socket.readyState !== WebSocket.OPEN || this.awaitingAnswer) {
      return;
    }
    clearTimeout(this.beat);
    socket.send(PING);
    this.awaitingAnswer = true;
    this.beat = setTimeout(() => this.abandon(socket), this.pongTimeoutMs);
  }

  // Gives up on a silent socket, or one whose handshake never completed. Its close event can
  // take a minute over a cut network (the closing handshake cannot cross it either), so we
  // reconnect at once and ignore that event when it comes.
  abandon(socket) {
    if (socket !== this.socket) return;
    socket.close(CLOSE_SILENT);
    this.closed(socket, CLOSE_SILENT);
  }

  receive(raw) {
    const event = JSON.parse(raw);
    if (this.awaitingAnswer) {
      // Any frame shows the link is alive. The next ping is scheduled from this event, not
      // from a timer, so hidden tabs do not get Chrome's once-a-minute timer throttling.
      this.awaitingAnswer = false;
      this.schedulePing(this.socket);
    }
    if (event.type === "pong") return;
    if (event.type === "message.posted" && event.message.id > this.lastMessageId) {
      this.lastMessageId = event.message.id;
    }
    if (event.type === "ready") {
      this.attempt = 0;
      if (event.last_message_id > this.lastMessageId) this.lastMessageId = event.last_message_id;
    }
    this.onEvent(event);
    // Other modules of the page (notice_banner.js) follow the same socket.
    window.dispatchEvent(new CustomEvent("counterline:stream", { detail: event }));
    if (event.type === "ready") this.onStatus("connected");
  }

  closed(socket, code) {
    if (socket !== this.socket || this.stopped) return;
    this.socket = null;
    this.awaitingAnswer = false;
    clearTimeout(this.beat);
    if (ENDING_CODES.has(code)) {
      this.stopped = true;
      this.onStatus("ended");
      return;
    }
    this.onStatus("reconnecting");
    this.attempt += 1;
    const ceiling = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** (this.attempt - 1));
    this.timer = setTimeout(() => this.connect(), ceiling * (0.5 + Math.random() / 2));
  }

  // The network is back, or the tab is shown again: reconnect now if we are waiting to, or
  // check at once that the open socket still answers (it may have died while we slept).
  reconnectNow() {
    if (this.stopped) return;
    if (this.socket) {
      this.ping(this.socket);
      return;
    }
    clearTimeout(this.timer);
    this.connect();
  }
}
