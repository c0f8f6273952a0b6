"""The users console over the JSON API (docs/api.md, Admin: users): administrators only;
every change goes through the accounts and people actions, which audit it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from counterline.accounts.actions import Identity
from counterline.accounts.guards import role_guard
from counterline.accounts.models import Role
from counterline.accounts.policy import MANAGES_USERS
from counterline.admin import user_imports as imports
from counterline.admin import user_queries as queries
from counterline.admin import users
from counterline.admin.user_queries import UserFilters
from counterline.admin.user_schemas import (
    ImportPreview,
    ImportStatus,
    PasswordResetOut,
    UnlockOut,
    UserCreated,
    UserIn,
    UserPage,
    UserPatch,
    UserRowOut,
)
from counterline.admin.users import DEFAULT_LIMIT, MAX_LIMIT, MAX_OFFSET, ONLY_ADMINS
from counterline.api_errors import BODY_ERRORS, error_responses
from counterline.audit.actions import record
from counterline.deps import ServicesDep
from counterline.ids import Id
from counterline.responses import json_of

router = APIRouter(tags=["admin: users"])

UserAdmin = Annotated[Identity, Depends(role_guard(MANAGES_USERS, ONLY_ADMINS))]
CSV_TYPE = "text/csv; charset=utf-8"


def user_filters(
    q: Annotated[
        str | None, Query(max_length=64, description="Part of a username or display name.")
    ] = None,
    branch_id: Annotated[Id | None, Query()] = None,
    role: Annotated[Role | None, Query()] = None,
    active: Annotated[bool | None, Query(description="Only active (or deactivated) ones.")] = None,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> UserFilters:
    return UserFilters(
        text=(q or "").replace("\x00", "").strip() or None,
        branch_id=branch_id,
        role=role,
        active=active,
        offset=offset,
        limit=limit,
    )


UserQuery = Annotated[UserFilters, Depends(user_filters)]


@router.get("/admin/users", response_model=UserPage, responses=error_responses(401, 403, 422))
async def list_users(filters: UserQuery, identity: UserAdmin, services: ServicesDep) -> Response:
    """Accounts, deactivated ones too, by branch and username, a page at a time: search by
    part of a username or name, filter by branch, role and whether active."""
    async with services.reading() as unit:
        page = await users.page_of_users(unit, filters)
    return json_of(page)


@router.post(
    "/admin/users",
    status_code=201,
    response_model=UserCreated,
    responses=error_responses(*BODY_ERRORS, 401, 403, 404),
)
async def create_user(new: UserIn, identity: UserAdmin, services: ServicesDep) -> Response:
    """Add a user to a branch (and its room and the company room) with a one-time password,
    shown only in this answer; it must be replaced at the first login."""
    async with services.transaction() as unit:
        user, one_time = await users.create(
            unit,
            identity.user,
            username=new.username,
            display_name=new.display_name,
            branch_id=new.branch_id,
            role=new.role,
        )
        row = await users.row_of(unit, user.id)
    return json_of(UserCreated(user=row, one_time_password=one_time), 201)


@router.patch(
    "/admin/users/{user_id}",
    response_model=UserRowOut,
    responses=error_responses(*BODY_ERRORS, 401, 403, 404),
)
async def change_user(
    user_id: Id, patch: UserPatch, identity: UserAdmin, services: ServicesDep
) -> Response:
    """Change a user's display name, branch (their rooms follow; past messages keep the
    branch they had) or role (their open tabs follow). Fields left out stay."""
    async with services.transaction() as unit:
        user = await users.update(unit, identity.user, user_id, patch)
        row = await users.row_of(unit, user.id)
    return json_of(row)


@router.post(
    "/admin/users/{user_id}/deactivate",
    response_model=UserRowOut,
    responses=error_responses(400, 401, 403, 404, 422),
)
async def deactivate_user(user_id: Id, identity: UserAdmin, services: ServicesDep) -> Response:
    """Deactivate a user: never deleted, their messages keep their name; every session and
    API token of theirs ends at once and they cannot log in."""
    async with services.transaction() as unit:
        user = await users.set_active(unit, identity.user, user_id, False)
        row = await users.row_of(unit, user.id)
    return json_of(row)


@router.post(
    "/admin/users/{user_id}/reactivate",
    response_model=UserRowOut,
    responses=error_responses(401, 403, 404, 422),
)
async def reactivate_user(user_id: Id, identity: UserAdmin, services: ServicesDep) -> Response:
    """Let a deactivated user log in again (with the password they had)."""
    async with services.transaction() as unit:
        user = await users.set_active(unit, identity.user, user_id, True)
        row = await users.row_of(unit, user.id)
    return json_of(row)


@router.post(
    "/admin/users/{user_id}/password-reset",
    response_model=PasswordResetOut,
    responses=error_responses(401, 403, 404, 422),
)
async def reset_password(user_id: Id, identity: UserAdmin, services: ServicesDep) -> Response:
    """Give a user a one-time password, shown only in this answer; their sessions end and
    they must choose their own password at the next login."""
    async with services.transaction() as unit:
        user, one_time = await users.reset_password(unit, identity.user, user_id)
        row = await users.row_of(unit, user.id)
    return json_of(PasswordResetOut(user=row, one_time_password=one_time))


@router.post(
    "/admin/users/{user_id}/unlock",
    response_model=UnlockOut,
    responses=error_responses(401, 403, 404, 422),
)
async def unlock_user(user_id: Id, identity: UserAdmin, services: ServicesDep) -> Response:
    """Forget a user's failed logins from every address, so nobody waits to try again."""
    async with services.transaction() as unit:
        user, cleared = await users.unlock(unit, identity.user, user_id)
        row = await users.row_of(unit, user.id)
    return json_of(UnlockOut(user=row, failures_cleared=cleared))


EXPORT_COLUMNS = ("username", "display_name", "branch", "role", "active", "last_login_at")


@router.get(
    "/admin/users/export.csv",
    response_class=Response,
    responses={
        200: {"content": {"text/csv": {}}, "description": "UTF-8 CSV with a BOM."},
        **error_responses(401, 403),
    },
)
async def export_users(identity: UserAdmin, services: ServicesDep) -> Response:
    """Every account as CSV (UTF-8 with BOM, for Excel), in the import's columns plus
    whether active and the last login; never a password or its hash. Audited."""
    async with services.transaction() as unit:
        rows = await queries.list_users(unit.session, UserFilters(limit=10**9))
        record(
            unit, "user.list_exported", actor_id=identity.user.id, target="users", rows=len(rows)
        )
    body = imports.csv_bytes(
        EXPORT_COLUMNS,
        [
            (
                row.username,
                row.display_name,
                row.branch_name,
                row.role.value,
                "yes" if row.active else "no",
                row.last_login_at.isoformat() if row.last_login_at else "",
            )
            for row in rows
        ],
    )
    return Response(
        body,
        media_type=CSV_TYPE,
        headers={"Content-Disposition": 'attachment; filename="users.csv"'},
    )


_CSV_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary"}},
                }
            },
        },
        "description": "The CSV file: columns username, display_name, branch, role "
        "(optional, clerk by default) and password (optional; else a one-time one), headers "
        "in English or Chinese (用户名, 姓名, 营业厅, 角色, 密码); UTF-8 with or without BOM, "
        "GBK/GB18030 or UTF-16.",
    }
}
CreateBranches = Annotated[
    bool,
    Query(description="Create the branches the file names that do not exist yet."),
]


async def _file_of(request: Request) -> bytes:
    content_type = request.headers.get("content-type", "").lower()
    if content_type.startswith("multipart/form-data"):
        form = await request.form(max_files=1, max_fields=10)
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            return upload.encode() if isinstance(upload, str) else b""
        return await upload.read(imports.MAX_FILE_BYTES + 1)
    return await request.body()


@router.post(
    "/admin/users/import/preview",
    response_model=ImportPreview,
    responses=error_responses(400, 401, 403, 413, 422),
    openapi_extra=_CSV_BODY,
)
async def preview_import(
    request: Request,
    identity: UserAdmin,
    services: ServicesDep,
    create_branches: CreateBranches = False,
) -> Response:
    """Check a CSV file of users without writing anything: each row with its errors
    (username taken or twice in the file, unknown branch, unknown role, too long...)."""
    data = await _file_of(request)
    async with services.reading() as unit:
        checked = await imports.check(unit, data, create_branches=create_branches)
    return json_of(checked.preview())


@router.post(
    "/admin/users/import",
    status_code=202,
    response_model=ImportStatus,
    responses=error_responses(400, 401, 403, 413, 422),
    openapi_extra=_CSV_BODY,
)
async def start_import(
    request: Request,
    identity: UserAdmin,
    services: ServicesDep,
    create_branches: CreateBranches = False,
) -> Response:
    """Import the valid rows of a CSV file (as the preview checks it) in the background:
    the answer has the import's id; follow it at `GET /api/v1/admin/users/import/{id}`.
    Rows refused are listed in `errors`; users get a one-time password unless the file
    gives one."""
    data = await _file_of(request)
    async with services.transaction() as unit:
        checked = await imports.check(unit, data, create_branches=create_branches)
        job = await imports.start(unit, identity.user, checked, create_branches=create_branches)
        status = imports.status_of(job, identity.user)
    imports.run_in_background(job.id, services.reading, services.transaction)
    return json_of(status, 202)


@router.get(
    "/admin/users/import/{import_id}",
    response_model=ImportStatus,
    responses=error_responses(401, 403, 404, 422),
)
async def import_status(import_id: Id, identity: UserAdmin, services: ServicesDep) -> Response:
    """How far an import has come: rows done of the total, users created, rows refused.
    An import whose server stopped goes on from here where it was."""
    async with services.reading() as unit:
        job = await imports.get_import(unit, import_id)
        status = imports.status_of(job, identity.user)
    if job.state == "running" and imports.stalled(job):
        async with services.transaction() as unit:
            job = await imports.get_import(unit, import_id)
            resumed = await imports.take_over_if_stalled(unit, job)
        if resumed:
            imports.run_in_background(import_id, services.reading, services.transaction)
    return json_of(status)


@router.get(
    "/admin/users/import/{import_id}/passwords.csv",
    response_class=Response,
    responses={
        200: {"content": {"text/csv": {}}, "description": "UTF-8 CSV with a BOM."},
        **error_responses(401, 403, 404, 409, 422),
    },
)
async def import_passwords(import_id: Id, identity: UserAdmin, services: ServicesDep) -> Response:
    """The one-time passwords an import generated, as CSV, for the administrator who ran
    it, once the import is done; only once: the server forgets them as they leave."""
    async with services.transaction() as unit:
        body = await imports.take_passwords(unit, identity.user, import_id)
    return Response(
        body,
        media_type=CSV_TYPE,
        headers={
            "Content-Disposition": f'attachment; filename="import-{import_id}-passwords.csv"',
            "Cache-Control": "no-store",
        },
    )
