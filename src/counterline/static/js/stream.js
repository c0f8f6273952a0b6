// Server contract: WebSocket /api/v1/stream?last_message_id=N (realtime/routes.py). The server
// replays every message after N in the user's rooms, then sends {"type":"ready",
// "last_message_id", "online_user_ids"} and live events. We send {"type":"ping"} every 20 s and
// expect {"type":"pong"}; silence means a dead link. Close codes 4001 (session ended) and 4403
// (forbidden) end the page; any other close reconnects with backoff from the last id seen.

const PING_EVERY_MS = 20000;
const PONG_TIMEOUT_MS = 10000;
const FIRST_RETRY_MS = 400;
const MAX_RETRY_MS = 15000;
const ENDING_CODES = new Set([4001, 4403]);

export class Stream {
  constructor({ lastMessageId, onEvent, onStatus }) {
    Object.assign(this, { lastMessageId, onEvent, onStatus });
    this.attempt = 0;
    this.socket = null;
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
    clearInterval(this.pinger);
    clearTimeout(this.timer);
    if (this.socket) this.socket.close(1000);
  }

  connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const url = `${scheme}://${location.host}/api/v1/stream?last_message_id=${this.lastMessageId}`;
    const socket = new WebSocket(url);
    this.socket = socket;
    this.onStatus(this.attempt === 0 ? "connecting" : "reconnecting");
    socket.addEventListener("open", () => this.startHeartbeat(socket));
    socket.addEventListener("message", (event) => this.receive(event.data));
    socket.addEventListener("close", (event) => this.closed(socket, event.code));
  }

  receive(raw) {
    const event = JSON.parse(raw);
    this.lastInbound = Date.now();
    if (event.type === "pong") return;
    if (event.type === "message.posted" && event.message.id > this.lastMessageId) {
      this.lastMessageId = event.message.id;
    }
    if (event.type === "ready") {
      this.attempt = 0;
      if (event.last_message_id > this.lastMessageId) this.lastMessageId = event.last_message_id;
    }
    this.onEvent(event);
    if (event.type === "ready") this.onStatus("connected");
  }

  startHeartbeat(socket) {
    clearInterval(this.pinger);
    this.lastInbound = Date.now();
    this.pinger = setInterval(() => {
      if (socket.readyState !== WebSocket.OPEN) return;
      if (Date.now() - this.lastInbound > PING_EVERY_MS + PONG_TIMEOUT_MS) {
        socket.close(4000);
        return;
      }
      socket.send(JSON.stringify({ type: "ping" }));
    }, PING_EVERY_MS);
  }

  closed(socket, code) {
    if (socket !== this.socket || this.stopped) return;
    clearInterval(this.pinger);
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

  reconnectNow() {
    if (this.stopped || !this.socket || this.socket.readyState !== WebSocket.CLOSED) return;
    clearTimeout(this.timer);
    this.connect();
  }
}
