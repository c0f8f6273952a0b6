"""The translated strings our JavaScript shows (sent to the page as JSON).

Placeholders such as ``%(time)s`` are filled in by the scripts in static/js.
"""

from __future__ import annotations

from counterline.i18n import gettext


def client_strings() -> dict[str, str]:
    return {
        "connecting": gettext("Connecting…"),
        "reconnecting": gettext("Connection lost. Reconnecting…"),
        "connected": gettext("Connected again."),
        "live_degraded": gettext(
            "Live updates are delayed: new messages arrive every few seconds. Nothing is lost."
        ),
        "sending": gettext("Sending…"),
        "send_failed": gettext("Not sent yet. Retrying automatically…"),
        "online": gettext("Online"),
        "offline": gettext("Offline"),
        "online_count": gettext("%(online)s of %(total)s people online"),
        "last_seen": gettext("Last seen %(time)s"),
        "never_seen": gettext("Never logged in"),
        "load_older": gettext("Load older messages"),
        "no_older": gettext("This is the beginning of the room."),
        "back_to_latest": gettext("Back to latest"),
        "new_messages": gettext("New messages below"),
        "showing_day": gettext("Showing messages from %(day)s on."),
        "no_messages_that_day": gettext("No messages from that day on."),
        "unread": gettext("%(count)s unread messages"),
        "session_ended": gettext("You have been logged out."),
        "error": gettext("Something went wrong. Please try again."),
        "ip": gettext("IP"),
        "you": gettext("(you)"),
    }
