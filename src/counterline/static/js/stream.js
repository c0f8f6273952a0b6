// Server contract: WebSocket /api/v1/stream?last_message_id=N. The server replays
// every message after N, then sends {"type":"ready"} and live events. We send
// {"type":"ping"} every 20 s and expect {"type":"pong"}; silence means a dead link.

const PING_EVERY_MS = 20000;
const PONG_TIMEOUT_MS = 10000;
const SESSION_ENDED = 4001;
const FORBIDDEN = 4403;

export class Stream {
  constructor({ lastMessageId, onEvent, onStatus }) {
    this.lastMessageId = lastMessageId;
    this.onEvent = onEvent;
    this.onStatus = onStatus;
    this.attempt = 0;
    this.socket = null;
    this.stopped = false;
  }

  start() {
    this.connect();
    window.addEventListener("online", () => this.reconnectNow());
  }

  stop() {
    this.stopped = true;
    clearInterval(this.pinger);
    if (this.socket) this.socket.close(1000);
  }

  noteMessageId(id) {
    if (id > this.lastMessageId) this.lastMessageId = id;
  }

  connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const url = `${scheme}://${location.host}/api/v1/stream?last_message_id=${this.lastMessageId}`;
    const socket = new WebSocket(url);
    this.socket = socket;
    this.onStatus(this.attempt === 0 ? "connecting" : "reconnecting");
    socket.addEventListener("message", (event) => this.receive(event.data));
    socket.addEventListener("close", (event) => this.closed(socket, event.code));
    socket.addEventListener("open", () => this.startHeartbeat(socket));
  }

  receive(raw) {
    const event = JSON.parse(raw);
    this.lastInbound = Date.now();
    if (event.type === "pong") return;
    if (event.type === "ready") {
      this.attempt = 0;
      this.noteMessageId(event.last_message_id || 0);
      this.onStatus("connected");
    }
    if (event.type === "message.posted") this.noteMessageId(event.message.id);
    this.onEvent(event);
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
    if (code === SESSION_ENDED || code === FORBIDDEN) {
      this.onStatus("ended");
      return;
    }
    this.onStatus("reconnecting");
    this.attempt += 1;
    const delay = Math.min(15000, 500 * 2 ** Math.min(this.attempt, 5)) * (0.5 + Math.random() / 2);
    this.timer = setTimeout(() => this.connect(), delay);
  }

  reconnectNow() {
    if (this.stopped || (this.socket && this.socket.readyState === WebSocket.OPEN)) return;
    clearTimeout(this.timer);
    this.connect();
  }
}
