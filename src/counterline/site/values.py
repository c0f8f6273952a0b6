"""The settings an administrator may change, how each is checked, and the values in effect.

A setting stored in ``site_settings`` overrides the config file's value; removing it (the
console's "use the config file value") restores the file's. Every server keeps the stored
rows in a ``SiteSettings`` and reloads them every ``REFRESH_SECONDS`` (a change made
through another server), so a change is in effect everywhere within a minute, without a
restart; the server that made it applies it at once.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from counterline.config import Settings
from counterline.db import Unit
from counterline.i18n import LANGUAGES, N_, gettext

log = logging.getLogger(__name__)

REFRESH_SECONDS = 30.0
SITE_NAME_MAX = 100
EDIT_MINUTES_MAX = 7 * 24 * 60
UPLOAD_MB_MAX = 1024
RETENTION_DAYS_MIN = 7
RETENTION_DAYS_MAX = 3650
# Operational data is kept this long when no administrator has set a retention.
DEFAULT_RETENTION_DAYS = 180

SITE_NAME = "site_name"
SITE_LOGO = "site_logo"
DEFAULT_LANGUAGE = "default_language"
TIME_ZONE = "time_zone"
EDIT_MINUTES = "message_edit_minutes"
UPLOAD_MB = "max_upload_mb"
RETENTION_DAYS = "retention_days"
# In the order the console shows them.
KEYS = (
    SITE_NAME,
    SITE_LOGO,
    DEFAULT_LANGUAGE,
    TIME_ZONE,
    EDIT_MINUTES,
    UPLOAD_MB,
    RETENTION_DAYS,
)

NOT_A_WHOLE_NUMBER = N_("Enter a whole number.")
OUT_OF_RANGE = N_("Enter a number from %(low)s to %(high)s.")
NAME_TOO_LONG = N_("At most %(max)s characters.")
UNKNOWN_LANGUAGE = N_("Choose 简体中文 (zh_CN) or English (en).")
UNKNOWN_ZONE = N_("“%(value)s” is not a time zone: write it like Asia/Shanghai.")
NOT_A_PICTURE = N_("Upload %(value)s is not a picture: upload a PNG, JPEG or WebP image first.")


class Invalid(ValueError):
    """A value an administrator entered that cannot be used: an N_ msgid and params."""

    def __init__(self, message: str, **params: object) -> None:
        super().__init__(message)
        self.message = message
        self.params = params

    def translated(self) -> str:
        return gettext(self.message, **self.params)


def _whole(value: Any, low: int, high: int) -> int:
    if isinstance(value, bool):
        raise Invalid(NOT_A_WHOLE_NUMBER)
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        value = int(value)
    if isinstance(value, str):
        text = value.strip()
        if not text.isascii() or not text.lstrip("-").isdigit() or len(text) > 12:
            raise Invalid(NOT_A_WHOLE_NUMBER)
        value = int(text)
    if not isinstance(value, int):
        raise Invalid(NOT_A_WHOLE_NUMBER)
    if not low <= value <= high:
        raise Invalid(OUT_OF_RANGE, low=low, high=high)
    return value


def _site_name(value: Any) -> str:
    if not isinstance(value, str):
        raise Invalid(NAME_TOO_LONG, max=SITE_NAME_MAX)
    name = " ".join(value.split())
    if len(name) > SITE_NAME_MAX:
        raise Invalid(NAME_TOO_LONG, max=SITE_NAME_MAX)
    return name


def _language(value: Any) -> str:
    if value not in LANGUAGES:
        raise Invalid(UNKNOWN_LANGUAGE)
    return str(value)


def _zone(value: Any) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if not text or len(text) > 64:
        raise Invalid(UNKNOWN_ZONE, value=str(value)[:64])
    try:
        ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError, OSError) as error:
        raise Invalid(UNKNOWN_ZONE, value=text) from error
    return text


# How each value is checked and normalised (the logo's upload is checked against the
# database by the actions). A blank site name or logo means "none set".
CHECKS: Mapping[str, Callable[[Any], Any]] = {
    SITE_NAME: _site_name,
    SITE_LOGO: lambda value: _whole(value, 1, 2**53),
    DEFAULT_LANGUAGE: _language,
    TIME_ZONE: _zone,
    EDIT_MINUTES: lambda value: _whole(value, 0, EDIT_MINUTES_MAX),
    UPLOAD_MB: lambda value: _whole(value, 1, UPLOAD_MB_MAX),
    RETENTION_DAYS: lambda value: _whole(value, RETENTION_DAYS_MIN, RETENTION_DAYS_MAX),
}


def retention_days_of(stored: Mapping[str, Any]) -> int:
    """The retention in days the stored settings give (the default when none is set)."""
    try:
        return int(CHECKS[RETENTION_DAYS](stored[RETENTION_DAYS]))
    except (KeyError, Invalid):
        return DEFAULT_RETENTION_DAYS


@dataclass(frozen=True, slots=True)
class Effective:
    """Every setting's value in effect, and whether it comes from the console."""

    site_name: str
    site_logo: int | None
    default_language: str
    time_zone: str
    message_edit_minutes: float
    max_upload_mb: float
    retention_days: int
    from_console: frozenset[str]


class SiteSettings:
    """This server's copy of the stored settings over the config file's values."""

    def __init__(self, config: Settings) -> None:
        self.config = config
        self.stored: dict[str, Any] = {}

    def use(self, stored: Mapping[str, Any]) -> None:
        """Take the stored rows (``{key: value}``); a value that no longer passes its check
        (a time zone removed from the system) is ignored, the config file's value used."""
        usable: dict[str, Any] = {}
        for key, value in stored.items():
            check = CHECKS.get(key)
            if check is None:
                continue
            try:
                usable[key] = check(value)
            except Invalid:
                log.warning("ignoring the stored site setting %s=%r", key, value)
        self.stored = usable

    async def load(self, unit: Unit) -> None:
        from counterline.site import queries

        self.use(await queries.stored_settings(unit.session))

    async def follow(
        self,
        reading: Callable[[], AbstractAsyncContextManager[Unit]],
        every: float | None = None,
    ) -> None:
        """Reload the stored settings every ``every`` seconds (``REFRESH_SECONDS``; one
        small query)."""
        while True:
            await asyncio.sleep(every or REFRESH_SECONDS)
            try:
                async with reading() as unit:
                    await self.load(unit)
            except Exception:
                log.exception("reloading the site settings failed; trying again later")

    # The values in effect, read where the config file's were read before.

    @property
    def site_name(self) -> str:
        """The name the console set, else the product's name in the viewer's language."""
        return self.stored.get(SITE_NAME) or gettext("Counterline")

    @property
    def site_logo(self) -> int | None:
        return self.stored.get(SITE_LOGO)

    @property
    def default_language(self) -> str:
        return self.stored.get(DEFAULT_LANGUAGE, self.config.default_language)

    @property
    def time_zone(self) -> str:
        return self.stored.get(TIME_ZONE, self.config.time_zone)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)  # ZoneInfo keeps one instance per key

    @property
    def message_edit_minutes(self) -> float:
        return float(self.stored.get(EDIT_MINUTES, self.config.message_edit_minutes))

    @property
    def max_upload_bytes(self) -> int:
        megabytes = self.stored.get(UPLOAD_MB)
        return self.config.max_upload_bytes if megabytes is None else megabytes << 20

    @property
    def retention_days(self) -> int:
        return retention_days_of(self.stored)

    def effective(self) -> Effective:
        return Effective(
            site_name=self.stored.get(SITE_NAME, ""),
            site_logo=self.site_logo,
            default_language=self.default_language,
            time_zone=self.time_zone,
            message_edit_minutes=self.message_edit_minutes,
            max_upload_mb=self.max_upload_bytes / (1 << 20),
            retention_days=self.retention_days,
            from_console=frozenset(self.stored),
        )

    def config_values(self) -> dict[str, Any]:
        """What each setting is without the console (shown next to the field)."""
        return {
            SITE_NAME: "",
            SITE_LOGO: None,
            DEFAULT_LANGUAGE: self.config.default_language,
            TIME_ZONE: self.config.time_zone,
            EDIT_MINUTES: self.config.message_edit_minutes,
            UPLOAD_MB: self.config.max_upload_bytes / (1 << 20),
            RETENTION_DAYS: DEFAULT_RETENTION_DAYS,
        }
