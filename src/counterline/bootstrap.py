"""First steps: which database a command works on, whether it exists, and the first admin.

Only the commands that set a database up (``serve``, ``migrate``, ``init``) create one; every
other command refuses a database that is not there, so a command run in the wrong folder
cannot start an empty installation beside the real one. Whichever of those runs, whenever
no active administrator exists, creates ``admin`` with a one-time password.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from counterline.accounts.models import Role
from counterline.accounts.queries import count_active_admins, find_user_by_username
from counterline.branches.queries import find_branch_by_name
from counterline.config import Settings
from counterline.db import Database
from counterline.errors import UserError
from counterline.i18n import N_
from counterline.people.actions import add_branch, add_user
from counterline.rooms.actions import open_company_room
from counterline.services import Services

HEAD_OFFICE = "总部"
FIRST_ADMIN = "admin"
NO_DATABASE = N_(
    "There is no Counterline database at %(database)s. Pass --data-dir DIR (or set "
    "COUNTERLINE_DATABASE_URL) to use an existing one, or run `counterline init` to create "
    "this one."
)
CANNOT_OPEN = N_("Cannot open the database %(database)s: %(reason)s")


@dataclass
class FirstAdmin:
    """The administrator created because none was active. ``password`` is None when the
    username ``admin`` belongs to someone else (e.g. a deactivated admin): then nobody
    was created and an operator must give someone the role."""

    username: str
    password: str | None


def database_label(settings: Settings) -> str:
    """The database as an operator recognises it: the SQLite file, or the URL without
    its password."""
    url = make_url(settings.effective_database_url)
    if settings.is_sqlite:
        return url.database or ":memory:"
    return url.render_as_string(hide_password=True)


async def require_set_up(database: Database, label: str) -> None:
    """Refuse a database without Counterline's tables, without creating it (connecting to
    a missing SQLite file would create the file)."""
    path = database.sqlite_path
    if path is not None and not Path(path).is_file():
        raise UserError(NO_DATABASE, database=label)
    try:
        async with database.engine.connect() as connection:
            found = await connection.run_sync(
                lambda sync: inspect(sync).has_table("alembic_version")
            )
    except (OSError, SQLAlchemyError) as error:
        raise UserError(CANNOT_OPEN, database=label, reason=str(error).splitlines()[0]) from error
    if not found:
        raise UserError(NO_DATABASE, database=label)


async def ensure_first_admin(services: Services) -> FirstAdmin | None:
    """Create the administrator ``admin`` (one-time password) when no active administrator
    exists, whatever was added before (branches, people, the demo); None if one exists."""
    try:
        return await _add_first_admin(services)
    except IntegrityError:
        # Another server starting at the same moment created it first.
        return await _add_first_admin(services)


async def _add_first_admin(services: Services) -> FirstAdmin | None:
    async with services.transaction() as unit:
        await open_company_room(unit)
        if await count_active_admins(unit.session):
            return None
        if await find_user_by_username(unit.session, FIRST_ADMIN) is not None:
            return FirstAdmin(FIRST_ADMIN, None)
        branch = await find_branch_by_name(unit.session, HEAD_OFFICE)
        if branch is None:
            branch = await add_branch(unit, HEAD_OFFICE)
        _, password = await add_user(
            unit, username=FIRST_ADMIN, display_name="管理员", branch=branch, role=Role.admin
        )
    assert password is not None
    return FirstAdmin(FIRST_ADMIN, password)
