"""The translated strings our JavaScript shows (sent to the page as JSON)."""

from __future__ import annotations

from counterline.i18n import gettext


def client_strings() -> dict[str, str]:
    return {
        "connecting": gettext("Connecting…"),
        "reconnecting": gettext("Connection lost. Reconnecting…"),
        "connected": gettext("Connected."),
        "sending": gettext("Sending…"),
        "send_failed": gettext("Not sent. It will be retried automatically."),
        "retry": gettext("Retry"),
        "online": gettext("Online"),
        "offline": gettext("Offline"),
        "last_seen": gettext("Last seen %(time)s"),
        "never_seen": gettext("Never logged in"),
        "load_older": gettext("Load older messages"),
        "no_older": gettext("This is the beginning of the room."),
        "back_to_latest": gettext("Back to latest"),
        "no_messages_that_day": gettext("No messages from that day on."),
        "new_messages": gettext("New messages below"),
        "session_ended": gettext("You have been logged out."),
        "error": gettext("Something went wrong. Please try again."),
        "ip": gettext("IP"),
        "you": gettext("(you)"),
    }
