"""The moment a day starts in the site's time zone (days as filters take them: the
``after`` and ``before`` query parameters of ``deps.DayAfter`` and ``deps.DayBefore``)."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo


def start_of(day: date | None, zone: ZoneInfo) -> datetime | None:
    """When ``day`` begins in ``zone``; None for no day."""
    return None if day is None else datetime.combine(day, time.min, tzinfo=zone)
