// Desktop notifications, their settings and per-room mute. Server contract: boot.notifications
// {"level": "all" | "mentions" | "none", "sound": bool}; GET/PUT /api/v1/account/notifications
// (same shape); PUT /api/v1/rooms/{id}/mute {"muted": bool}; boot.room.muted and the sidebar
// links' data-muted. Message JSON carries "mentions": [{kind: "user" | "branch" | "role" |
// "all", ...}].
//
// Rules: never for one's own messages; only when the tab is hidden or the message is in
// another room; level "none" never, "mentions" only direct messages and mentions (of me, my
// branch, my role, @all), "all" everything. A muted room notifies only for a direct mention of
// me (not for @all, branch or role mentions). The browser's permission is asked only when the
// reader presses "enable desktop notifications". The sound is a short WebAudio beep.

import { reachable } from "./unread.js";

const LEVELS = ["all", "mentions", "none"];

export class Notifier {
  constructor({ api, me, room, settings, strings }) {
    Object.assign(this, { api, me, strings });
    this.roomId = room.id;
    this.settings = { level: "mentions", sound: false, ...(settings || {}) };
    this.loaded = Boolean(settings);
    this.audio = null;
  }

  async attach() {
    if (!this.loaded && reachable()) {
      try {
        this.settings = await this.api.get("/account/notifications");
      } catch {
        // the defaults stand
      }
    }
    this.form = document.getElementById("notify-settings");
    this.muteButton = document.getElementById("mute-toggle");
    if (this.form) this.attachSettings();
    if (this.muteButton) this.attachMute();
  }

  attachSettings() {
    const { form } = this;
    for (const radio of form.querySelectorAll("input[name=notify-level]")) {
      radio.checked = radio.value === this.settings.level;
      radio.addEventListener("change", () => this.save({ level: radio.value }));
    }
    const sound = form.querySelector("#notify-sound");
    sound.checked = Boolean(this.settings.sound);
    sound.addEventListener("change", () => {
      this.save({ sound: sound.checked });
      if (sound.checked) this.beep();
    });
    this.status = form.querySelector("#notify-status");
    this.enable = form.querySelector("#notify-enable");
    this.enable.addEventListener("click", async () => {
      if (!("Notification" in window)) return;
      await Notification.requestPermission();
      this.showPermission();
    });
    this.showPermission();
  }

  showPermission() {
    const supported = "Notification" in window;
    const state = supported ? Notification.permission : "unsupported";
    this.enable.hidden = state !== "default";
    this.status.textContent = {
      granted: this.strings.notify_granted,
      denied: this.strings.notify_denied,
      unsupported: this.strings.notify_unsupported,
      default: "",
    }[state];
  }

  async save(change) {
    const before = { ...this.settings };
    Object.assign(this.settings, change);
    if (!LEVELS.includes(this.settings.level)) this.settings.level = "all";
    try {
      this.settings = await this.api.put("/account/notifications", this.settings);
      this.status.textContent = this.strings.notify_saved;
    } catch (error) {
      this.settings = before;
      this.status.textContent = error.message;
    }
  }

  attachMute() {
    const button = this.muteButton;
    const show = (muted) => {
      button.setAttribute("aria-pressed", String(muted));
      button.textContent = muted ? this.strings.room_muted : this.strings.room_mute;
      const link = document.querySelector(`[data-room-link="${this.roomId}"]`);
      if (link) link.dataset.muted = String(muted);
    };
    show(button.getAttribute("aria-pressed") === "true");
    button.addEventListener("click", async () => {
      const muted = button.getAttribute("aria-pressed") !== "true";
      try {
        const answer = await this.api.put(`/rooms/${this.roomId}/mute`, { muted });
        show(answer && typeof answer.muted === "boolean" ? answer.muted : muted);
      } catch {
        // the button keeps its state
      }
    });
  }

  isMuted(roomId) {
    return document.querySelector(`[data-room-link="${roomId}"]`)?.dataset.muted === "true";
  }

  isConversation(roomId) {
    return Boolean(document.querySelector(`#conversation-list [data-room-link="${roomId}"]`));
  }

  mentionsOfMe(message) {
    const me = this.me;
    let direct = false;
    let forMe = false;
    for (const mention of message.mentions || []) {
      if (mention.kind === "user") {
        direct ||= mention.id === me.id || mention.user_id === me.id || mention.username === me.username;
      } else if (mention.kind === "branch") {
        forMe ||= mention.id === me.branch_id || mention.branch_id === me.branch_id || mention.name === me.branch_name;
      } else if (mention.kind === "role") {
        forMe ||= mention.role === me.role || mention.name === me.role;
      } else if (mention.kind === "all") {
        forMe = true;
      }
    }
    return { direct, forMe: direct || forMe };
  }

  /** Whether this message deserves a notification (the rules above). */
  wanted(message) {
    if (message.author.id === this.me.id || this.settings.level === "none") return false;
    if (document.visibilityState === "visible" && message.room_id === this.roomId) return false;
    const { direct, forMe } = this.mentionsOfMe(message);
    if (this.isMuted(message.room_id) && !direct) return false;
    if (this.settings.level === "mentions") return forMe || this.isConversation(message.room_id);
    return true;
  }

  noteMessage(message) {
    if (!this.wanted(message)) return;
    if (this.settings.sound) this.beep();
    if (!("Notification" in window) || Notification.permission !== "granted") return;
    const link = document.querySelector(`[data-room-link="${message.room_id}"] .room-name`);
    const where = link ? link.textContent : "";
    const text = (message.body || "").replace(/\s+/g, " ").slice(0, 140);
    try {
      const shown = new Notification(where ? `${message.author.display_name} · ${where}` : message.author.display_name, {
        body: text,
        tag: `counterline-message-${message.id}`, // one per message across the reader's tabs
      });
      shown.onclick = () => {
        window.focus();
        window.location.assign(`/rooms/${message.room_id}?at=${message.id}`);
      };
    } catch {
      // some browsers only notify from a service worker: the badges still count it
    }
  }

  beep() {
    try {
      this.audio ??= new AudioContext();
      const context = this.audio;
      const tone = context.createOscillator();
      const volume = context.createGain();
      tone.frequency.value = 880;
      volume.gain.setValueAtTime(0.08, context.currentTime);
      volume.gain.exponentialRampToValueAtTime(0.0001, context.currentTime + 0.25);
      tone.connect(volume).connect(context.destination);
      tone.start();
      tone.stop(context.currentTime + 0.25);
    } catch {
      // no audio on this machine
    }
  }
}
