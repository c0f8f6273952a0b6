"""CSV imports of users: read the file (UTF-8 with or without BOM, GBK/GB18030 from old
Excel, UTF-16), check every row against the rules of ``accounts.actions`` and the database
without writing (the preview), then create the valid rows in the background.

The import runs as a task of the node that started it, a batch at a time: the batch's
passwords are hashed in a thread first (argon2 is slow on purpose), outside any
transaction, so chat's writers never wait on it; then one short transaction creates the
batch's users (``people.add_user``, each audited) and advances the import's row, which
any node reads for the progress. An import whose process stopped (no batch for
``STALLED_AFTER``) is taken over by the next status read, on any node, and goes on from the
first row not committed.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import logging
import os
import threading
import unicodedata
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from counterline.accounts import actions as accounts
from counterline.accounts.models import Role, User
from counterline.admin import user_queries as queries
from counterline.admin.user_models import UserImport
from counterline.admin.user_schemas import (
    ImportPreview,
    ImportRowError,
    ImportRowOut,
    ImportStatus,
)
from counterline.audit.actions import record
from counterline.branches.actions import check_branch_name
from counterline.branches.models import Branch
from counterline.db import Unit, utcnow
from counterline.errors import Forbidden, NotFound, UserError
from counterline.exports.formats import neutralise
from counterline.i18n import N_, gettext
from counterline.people import actions as people

log = logging.getLogger(__name__)

MAX_ROWS = 5000
MAX_FILE_BYTES = 1 << 20
BATCH_SIZE = 10
STALLED_AFTER = timedelta(minutes=5)
MAX_CELL = 300  # longer cells are cut before checking (the check then says "too long")

# Header names accepted for each column, compared after NFKC, trimming and lower-casing.
HEADERS = {
    "username": ("username", "user name", "login", "用户名", "账号", "帐号", "登录名", "工号"),
    "display_name": ("display_name", "display name", "name", "姓名", "显示名", "名字", "名称"),
    "branch": ("branch", "营业厅", "网点", "所属营业厅", "部门", "分支"),
    "role": ("role", "角色", "岗位"),
    "password": ("password", "密码", "初始密码"),
}
REQUIRED = ("username", "display_name", "branch")
ROLE_NAMES = {
    "clerk": Role.clerk,
    "柜员": Role.clerk,
    "trainer": Role.trainer,
    "培训师": Role.trainer,
    "manager": Role.manager,
    "经理": Role.manager,
    "admin": Role.admin,
    "administrator": Role.admin,
    "管理员": Role.admin,
}

NOT_TEXT = N_("The file is not a CSV text file (UTF-8, GBK or GB18030).")
EMPTY_FILE = N_("The file has no rows.")
TOO_MANY_ROWS = N_("A file can hold at most %(n)s users; split it.")
TOO_LARGE = N_("The file is too large (at most %(n)s KB).")
MISSING_COLUMNS = N_(
    "The first line must name the columns username, display_name and branch (or 用户名, "
    "姓名, 营业厅); missing: %(names)s."
)
DUPLICATE_IN_FILE = N_("The username %(name)s is also on line %(line)s.")
USERNAME_TAKEN = N_("The username %(name)s is taken.")
UNKNOWN_BRANCH = N_("There is no branch named %(name)s.")
BAD_ROLE = N_(
    "Unknown role “%(role)s”: write clerk, trainer, manager or admin (柜员, 培训师, 经理, 管理员)."
)
NO_VALID_ROWS = N_("No row can be imported: correct the file and try again.")
NOT_YOUR_IMPORT = N_("Only the administrator who ran this import can download its passwords.")
NO_SUCH_IMPORT = N_("There is no such import.")
PASSWORDS_GONE = N_(
    "The one-time passwords of this import were downloaded already, or it has none, or it "
    "is still running."
)


def decode(data: bytes) -> tuple[str, str]:
    """The file's text and the encoding it was read in."""
    if len(data) > MAX_FILE_BYTES:
        raise UserError(TOO_LARGE, status_code=413, n=MAX_FILE_BYTES // 1024)
    if data.startswith(b"\xef\xbb\xbf"):
        candidates = ["utf-8-sig"]
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        candidates = ["utf-16"]
    else:
        candidates = ["utf-8", "gb18030"]
    for encoding in candidates:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" not in text:
            return text, encoding
    raise UserError(NOT_TEXT)


@dataclass
class Row:
    line: int
    username: str
    display_name: str
    branch: str
    role: str
    password: str
    errors: list[str] = field(default_factory=list)


def _header_key(cell: str) -> str | None:
    name = unicodedata.normalize("NFKC", cell).strip().strip("*").strip().lower()
    for key, names in HEADERS.items():
        if name in names:
            return key
    return None


def parse(text: str) -> list[Row]:
    """The rows under the header line, with their line numbers (blank lines skipped)."""
    lines = text.splitlines()
    first = next((line for line in lines if line.strip()), "")
    if not first:
        raise UserError(EMPTY_FILE)
    delimiter = max(",;\t，", key=first.count)
    if delimiter == "，":  # a full-width comma typed in Excel: read it as a comma
        text = text.replace("，", ",")
        delimiter = ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header: dict[str, int] | None = None
    rows: list[Row] = []
    try:
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue
            if header is None:
                header = {}
                for index, cell in enumerate(cells):
                    key = _header_key(cell)
                    if key is not None and key not in header:
                        header[key] = index
                missing = [key for key in REQUIRED if key not in header]
                if missing:
                    raise UserError(MISSING_COLUMNS, names=", ".join(missing))
                continue
            if len(rows) >= MAX_ROWS:
                raise UserError(TOO_MANY_ROWS, n=MAX_ROWS)

            rows.append(Row(line=reader.line_num, **_cells(header, cells)))
    except csv.Error:
        raise UserError(NOT_TEXT) from None
    if not rows:
        raise UserError(EMPTY_FILE)
    return rows


def _cells(header: dict[str, int], cells: Sequence[str]) -> dict[str, str]:
    values = {}
    for key in HEADERS:
        index = header.get(key)
        value = cells[index] if index is not None and index < len(cells) else ""
        values[key] = value.strip()[:MAX_CELL]
    return values


def role_of(text: str) -> Role | None:
    if not text:
        return Role.clerk
    return ROLE_NAMES.get(unicodedata.normalize("NFKC", text).strip().lower())


@dataclass
class Checked:
    """A file's rows after checking: which can be created, which branches are missing."""

    encoding: str
    rows: list[Row]
    missing_branches: list[str]

    @property
    def valid(self) -> list[Row]:
        return [row for row in self.rows if not row.errors]

    def preview(self) -> ImportPreview:
        valid = len(self.valid)
        return ImportPreview(
            encoding=self.encoding,
            rows=[
                ImportRowOut(
                    line=row.line,
                    username=row.username,
                    display_name=row.display_name,
                    branch=row.branch,
                    role=row.role,
                    errors=row.errors,
                )
                for row in self.rows
            ],
            valid=valid,
            invalid=len(self.rows) - valid,
            missing_branches=self.missing_branches,
        )


def _problem(error: UserError) -> str:
    return error.translated()


async def check(unit: Unit, data: bytes, *, create_branches: bool) -> Checked:
    """Read and check a file without writing anything: every row gets its errors."""
    text, encoding = decode(data)
    rows = parse(text)
    branches = await queries.branches_by_name(unit.session)
    seen: dict[str, int] = {}
    missing: list[str] = []
    for row in rows:
        try:
            row.username = accounts.check_username(row.username)
        except UserError as error:
            row.errors.append(_problem(error))
        else:
            if row.username in seen:
                row.errors.append(
                    gettext(DUPLICATE_IN_FILE, name=row.username, line=seen[row.username])
                )
            else:
                seen[row.username] = row.line
        try:
            accounts.check_display_name(row.display_name)
        except UserError as error:
            row.errors.append(_problem(error))
        try:
            name = check_branch_name(row.branch)
        except UserError as error:
            row.errors.append(_problem(error))
        else:
            if name not in branches:
                if not create_branches:
                    row.errors.append(gettext(UNKNOWN_BRANCH, name=name))
                elif name not in missing:
                    missing.append(name)
            row.branch = name
        if role_of(row.role) is None:
            row.errors.append(gettext(BAD_ROLE, role=row.role))
        if row.password:
            try:
                accounts.check_new_password(row.password)
            except UserError as error:
                row.errors.append(_problem(error))
    taken = await queries.taken_usernames(unit.session, seen)
    for row in rows:
        if row.username in taken and seen.get(row.username) == row.line:
            row.errors.append(gettext(USERNAME_TAKEN, name=row.username))
    if not create_branches:
        missing = sorted({row.branch for row in rows if row.branch and row.branch not in branches})
    return Checked(encoding, rows, missing)


async def start(unit: Unit, actor: User, checked: Checked, *, create_branches: bool) -> UserImport:
    """Record an import of the checked file's valid rows (creating the missing branches
    first, if asked); ``run`` then creates the users."""
    valid = checked.valid
    if not valid:
        raise UserError(NO_VALID_ROWS)
    branches = await queries.branches_by_name(unit.session)
    if create_branches:
        for name in checked.missing_branches:
            if name in {row.branch for row in valid}:
                branches[name] = await people.add_branch(unit, name, actor_id=actor.id)
    refused = [
        {"line": row.line, "username": row.username, "errors": row.errors}
        for row in checked.rows
        if row.errors
    ]
    pending = [
        {
            "line": row.line,
            "username": row.username,
            "display_name": row.display_name,
            "branch_id": branches[row.branch].id,
            "role": (role_of(row.role) or Role.clerk).value,
            "password": row.password or None,
        }
        for row in valid
    ]
    job = UserImport(
        created_by_id=actor.id,
        state="running",
        total=len(pending),
        done=0,
        created=0,
        errors=refused,
        pending=pending,
        one_time_passwords=[],
    )
    unit.session.add(job)
    await unit.session.flush()
    record(
        unit,
        "user.import.started",
        actor_id=actor.id,
        target=f"import:{job.id}",
        rows=len(pending),
        refused=len(refused),
        encoding=checked.encoding,
    )
    return job


UnitOf = Callable[[], AbstractAsyncContextManager[Unit]]
_running: set[asyncio.Task[None]] = set()
# Imports hash in one thread of low priority (Linux: niceness is per thread, and argon2's
# lane threads inherit it): it takes whatever CPU chat leaves idle, and yields the moment
# the event loop's thread wants a core back.
IMPORT_NICENESS = 19


def _lower_priority() -> None:
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), IMPORT_NICENESS)


_hashing = ThreadPoolExecutor(
    max_workers=1, thread_name_prefix="user-import-hash", initializer=_lower_priority
)


def run_in_background(import_id: int, reading: UnitOf, writing: UnitOf) -> asyncio.Task[None]:
    """Start creating an import's users on this node (kept referenced until it ends)."""
    task = asyncio.create_task(run(import_id, reading, writing))
    _running.add(task)
    task.add_done_callback(_running.discard)
    return task


async def run(import_id: int, reading: UnitOf, writing: UnitOf) -> None:
    try:
        while await run_batch(import_id, reading, writing):
            pass
    except Exception as error:
        log.exception("user import %s failed", import_id)
        async with writing() as unit:
            job = await queries.find_import(unit.session, import_id)
            if job is not None and job.state == "running":
                job.state = "failed"
                job.finished_at = utcnow()
                job.errors = [
                    *job.errors,
                    {"line": 0, "username": "", "errors": [type(error).__name__]},
                ]


async def run_batch(import_id: int, reading: UnitOf, writing: UnitOf) -> bool:
    """Create the next batch of an import's users; False once it has ended (or another
    runner took it over)."""
    async with reading() as unit:
        job = await queries.find_import(unit.session, import_id)
        if job is None or job.state != "running":
            return False
        done = job.done
        batch = list(job.pending[done : done + BATCH_SIZE])
    prepared = [await accounts.prepare_password(row["password"], _hashing) for row in batch]
    async with writing() as unit:
        job = await queries.find_import(unit.session, import_id)
        if job is None or job.state != "running" or job.done != done:
            return False
        job.heartbeat_at = utcnow()
        created, refused, passwords = 0, [], []
        for row, password in zip(batch, prepared, strict=True):
            branch = await unit.session.get(Branch, row["branch_id"])
            try:
                if branch is None:
                    raise UserError(N_("There is no such branch."))
                user, one_time = await people.add_user(
                    unit,
                    username=row["username"],
                    display_name=row["display_name"],
                    branch=branch,
                    role=Role(row["role"]),
                    prepared=password,
                    actor_id=job.created_by_id,
                )
            except UserError as error:
                refused.append(
                    {"line": row["line"], "username": row["username"], "errors": [_problem(error)]}
                )
                continue
            created += 1
            if one_time is not None:
                passwords.append(
                    {
                        "username": user.username,
                        "display_name": user.display_name,
                        "branch": branch.name,
                        "password": one_time,
                    }
                )
        job.done += len(batch)
        job.created += created
        if refused:
            job.errors = [*job.errors, *refused]
        if passwords:
            job.one_time_passwords = [*job.one_time_passwords, *passwords]
        if job.done >= job.total:
            job.state = "done"
            job.finished_at = utcnow()
            job.pending = []
            record(
                unit,
                "user.import.finished",
                actor_id=job.created_by_id,
                target=f"import:{job.id}",
                created=job.created,
                refused=len(job.errors),
            )
            return False
    return True


def stalled(job: UserImport) -> bool:
    return job.state == "running" and utcnow() - job.heartbeat_at >= STALLED_AFTER


async def take_over_if_stalled(unit: Unit, job: UserImport) -> bool:
    """Whether ``job`` is running with no batch committed for ``STALLED_AFTER`` (its
    process stopped) and this caller now holds it: then it should run it again (each batch
    commits its users with the progress, so it goes on exactly where it stopped)."""
    if not stalled(job):
        return False
    return await queries.claim_import(unit.session, job.id, job.heartbeat_at, utcnow())


async def get_import(unit: Unit, import_id: int) -> UserImport:
    job = await queries.find_import(unit.session, import_id)
    if job is None:
        raise NotFound(NO_SUCH_IMPORT)
    return job


def status_of(job: UserImport, viewer: User) -> ImportStatus:
    has_passwords = (
        job.state == "done"
        and job.created_by_id == viewer.id
        and job.passwords_taken_at is None
        and bool(job.one_time_passwords)
    )
    return ImportStatus(
        id=job.id,
        state=job.state,
        total=job.total,
        done=job.done,
        created=job.created,
        percent=100 if job.total == 0 else min(100, job.done * 100 // job.total),
        errors=[ImportRowError.model_validate(error) for error in job.errors],
        passwords_url=f"/api/v1/admin/users/import/{job.id}/passwords.csv"
        if has_passwords
        else None,
        created_at=job.created_at,
        finished_at=job.finished_at,
    )


PASSWORD_COLUMNS = ("username", "display_name", "branch", "one_time_password")


async def take_passwords(unit: Unit, viewer: User, import_id: int) -> bytes:
    """The import's one-time passwords as CSV (UTF-8 with BOM, for Excel), for the admin
    who ran it, once: they are forgotten as they leave."""
    job = await get_import(unit, import_id)
    if job.created_by_id != viewer.id:
        raise Forbidden(NOT_YOUR_IMPORT)
    if job.state != "done" or job.passwords_taken_at is not None or not job.one_time_passwords:
        raise UserError(PASSWORDS_GONE, status_code=409)
    rows = [
        (entry["username"], entry["display_name"], entry["branch"], entry["password"])
        for entry in job.one_time_passwords
    ]
    job.one_time_passwords = []
    job.passwords_taken_at = utcnow()
    record(
        unit,
        "user.import.passwords_taken",
        actor_id=viewer.id,
        target=f"import:{job.id}",
        passwords=len(rows),
    )
    return csv_bytes(PASSWORD_COLUMNS, rows)


def csv_bytes(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> bytes:
    """CSV in UTF-8 with a BOM (Excel reads it as such), no cell readable as a formula."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows([neutralise(value) for value in row] for row in rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")
