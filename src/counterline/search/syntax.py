"""The search box's language: free words, "exact phrases" and filters written ``key:value``.

``from:<username|display name|me>``, ``branch:<name>``, ``in:<room name>``,
``after:YYYY-MM-DD`` (from the start of that day), ``before:YYYY-MM-DD`` (up to the start of
that day), ``has:picture`` / ``has:file``, ``mentions:me``. A value with spaces is quoted
(``in:"花桥 分局"``); Chinese quotes (“…”) and the full-width colon (``from：王芳``) work as
their ASCII forms, since that is what a Chinese keyboard types. A word with a colon that is
no filter (``http://…``, ``10:30``) is a free word. Every filter narrows the search (AND).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from counterline.errors import UserError
from counterline.i18n import N_

HAS_VALUES = {"picture": "picture", "image": "picture", "file": "file"}
FILTER_KEYS = ("from", "branch", "in", "after", "before", "has", "mentions")
ME = "me"
# No message predates the epoch; later than 9999 is no date either.
FIRST_DAY = date(1970, 1, 1)

BAD_DAY = N_("“%(value)s” is not a day: write %(key)s:YYYY-MM-DD, for example %(key)s:2026-01-31.")
EARLY_DAY = N_("Choose a day from %(first)s on.")
BAD_HAS = N_("“has:%(value)s” is not a filter: use has:picture or has:file.")
BAD_MENTIONS = N_("“mentions:%(value)s” is not a filter: use mentions:me.")
EMPTY_FILTER = N_("The filter %(key)s: needs a value, for example %(example)s.")

_EXAMPLES = {
    "from": "from:me",
    "branch": "branch:花桥",
    "in": "in:综合窗口",
    "after": "after:2026-01-01",
    "before": "before:2026-02-01",
    "has": "has:picture",
    "mentions": "mentions:me",
}
_QUOTES = str.maketrans({"“": '"', "”": '"', "＂": '"', "：": ":"})
_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_TOKEN = re.compile(
    r"""(?P<key>[A-Za-z]+):(?:"(?P<quoted>[^"]*)"?|(?P<value>\S*))"""
    r"""|"(?P<phrase>[^"]*)"?"""
    r"""|(?P<word>\S+)"""
)


@dataclass(frozen=True, slots=True)
class ParsedQuery:
    """A search box's text, read. Filters hold the values as written (``me`` included);
    each value narrows the search, so two different ``from:`` find nothing."""

    words: tuple[str, ...] = ()
    phrases: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()
    branches: tuple[str, ...] = ()
    rooms: tuple[str, ...] = ()
    after: date | None = None
    before: date | None = None
    has: frozenset[str] = field(default_factory=frozenset)
    mentions_me: bool = False

    @property
    def text(self) -> str:
        """The free words and phrases, as one text (what ranking calls the whole query)."""
        return " ".join((*self.words, *self.phrases))


def parse(q: str) -> ParsedQuery:
    """Read a search box's text; a filter it cannot read is a UserError saying why."""
    words: list[str] = []
    phrases: list[str] = []
    filters: dict[str, list[str]] = {key: [] for key in FILTER_KEYS}
    for match in _TOKEN.finditer(q.translate(_QUOTES)):
        key = (match.group("key") or "").lower()
        if key in filters:
            value = match.group("quoted")
            value = (match.group("value") if value is None else value).strip()
            if not value:
                raise UserError(EMPTY_FILTER, key=key, example=_EXAMPLES[key])
            filters[key].append(value)
        elif match.group("phrase") is not None:
            if match.group("phrase").strip():
                phrases.append(match.group("phrase").strip())
        else:
            words.append(match.group())
    afters = [day_of("after", value) for value in filters["after"]]
    befores = [day_of("before", value) for value in filters["before"]]
    return ParsedQuery(
        words=tuple(words),
        phrases=tuple(phrases),
        authors=tuple(filters["from"]),
        branches=tuple(filters["branch"]),
        rooms=tuple(filters["in"]),
        after=max(afters) if afters else None,
        before=min(befores) if befores else None,
        has=frozenset(has_of(value) for value in filters["has"]),
        mentions_me=any(mentions_of(value) for value in filters["mentions"]),
    )


def day_of(key: str, value: str) -> date:
    """A day written YYYY-MM-DD (``key`` names the filter in the error)."""
    if not _ISO_DAY.fullmatch(value):
        raise UserError(BAD_DAY, value=value, key=key)
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise UserError(BAD_DAY, value=value, key=key) from None
    if day < FIRST_DAY:
        raise UserError(EARLY_DAY, first=FIRST_DAY.isoformat())
    return day


def has_of(value: str) -> str:
    """``picture`` or ``file`` (``image`` is taken for ``picture``)."""
    kind = HAS_VALUES.get(value.lower())
    if kind is None:
        raise UserError(BAD_HAS, value=value)
    return kind


def mentions_of(value: str) -> bool:
    if value.lower() != ME:
        raise UserError(BAD_MENTIONS, value=value)
    return True
