"""Changing the site settings (admin console, API): every value checked, the change
audited with the values before and after, this server's copy updated at once."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from counterline.accounts.models import User
from counterline.audit.actions import record
from counterline.db import Unit
from counterline.errors import UserError
from counterline.i18n import N_
from counterline.site import queries
from counterline.site.models import SiteSetting
from counterline.site.values import CHECKS, NOT_A_PICTURE, SITE_LOGO, Invalid
from counterline.uploads.models import Upload

SETTINGS_INVALID = N_("Some settings cannot be used: see the fields marked.")


class SettingsInvalid(UserError):
    """Values that failed their checks, by setting: each an ``Invalid``."""

    def __init__(self, problems: Mapping[str, Invalid]) -> None:
        super().__init__(SETTINGS_INVALID)
        self.problems = dict(problems)

    def fields(self) -> dict[str, str]:
        return {key: problem.translated() for key, problem in self.problems.items()}


async def check_changes(unit: Unit, changes: Mapping[str, Any]) -> dict[str, Any]:
    """``changes`` (key: value, None or "" for "back to the config file") checked and
    normalised; ``SettingsInvalid`` naming every value that fails."""
    clean: dict[str, Any] = {}
    problems: dict[str, Invalid] = {}
    for key, value in changes.items():
        if key not in CHECKS:
            continue
        if value is None or (isinstance(value, str) and not value.strip()):
            clean[key] = None
            continue
        try:
            clean[key] = CHECKS[key](value)
        except Invalid as problem:
            problems[key] = problem
    logo = clean.get(SITE_LOGO)
    if logo is not None:
        upload = await unit.session.get(Upload, logo)
        if upload is None or upload.kind != "image":
            problems[SITE_LOGO] = Invalid(NOT_A_PICTURE, value=logo)
    if problems:
        raise SettingsInvalid(problems)
    return clean


async def change_settings(
    unit: Unit,
    actor: User,
    changes: Mapping[str, Any],
    *,
    client_ip: str = "",
) -> list[str]:
    """Store the changed settings (None: remove, the config file's value applies again);
    which keys changed. The caller reloads ``SiteSettings`` once this commits. One audit
    entry lists each change with its value before and after (None: the config file's)."""
    clean = await check_changes(unit, changes)
    rows = await queries.settings_rows(unit.session)
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for key, value in clean.items():
        row = rows.get(key)
        old = row.value if row is not None else None
        if old == value:
            continue
        before[key], after[key] = old, value
        if value is None:
            assert row is not None
            await unit.session.delete(row)
        elif row is None:
            unit.session.add(SiteSetting(key=key, value=value, updated_by_id=actor.id))
        else:
            row.value, row.updated_by_id = value, actor.id
    if not after:
        return []
    await unit.session.flush()
    record(
        unit,
        "settings.changed",
        actor_id=actor.id,
        target="settings",
        client_ip=client_ip,
        before=before,
        after=after,
    )
    return sorted(after)
