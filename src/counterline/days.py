"""Days as filters take them: ``after`` and ``before`` query parameters written YYYY-MM-DD
(checked by each capability, whose error names the syntax it offers), and the moment a day
starts in the site's time zone."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import Query

DayAfter = Annotated[
    str | None,
    Query(max_length=32, description="From the start of this day, YYYY-MM-DD (site time zone)."),
]
DayBefore = Annotated[
    str | None,
    Query(max_length=32, description="Before the start of this day, YYYY-MM-DD (site time zone)."),
]


def start_of(day: date | None, zone: ZoneInfo) -> datetime | None:
    """When ``day`` begins in ``zone``; None for no day."""
    return None if day is None else datetime.combine(day, time.min, tzinfo=zone)
