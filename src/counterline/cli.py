"""The ``counterline`` command."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from counterline.accounts import actions as accounts
from counterline.accounts import queries as account_queries
from counterline.accounts.models import Role
from counterline.accounts.secrets import generate_password
from counterline.audit.verify import ChainReport, verify_chain
from counterline.bootstrap import FirstAdmin, database_label, ensure_first_admin, require_set_up
from counterline.branches.queries import list_branches
from counterline.config import Settings, load_settings
from counterline.db import Unit
from counterline.demo import load_demo
from counterline.errors import UserError
from counterline.migrate import upgrade
from counterline.ops.backup import BackupError, back_up, copy_new_files
from counterline.ops.backup import restore as restore_backup
from counterline.people import actions as people
from counterline.realtime.wire import uvicorn_options
from counterline.search import actions as search_actions
from counterline.services import Services

T = TypeVar("T")


def _settings(ctx: click.Context) -> Settings:
    return load_settings(data_dir=ctx.obj.get("data_dir"))


def _run(
    settings: Settings,
    work: Callable[[Services], Awaitable[T]],
    *,
    creates: bool = False,
    announce: bool = True,
) -> T:
    """Run ``work`` on the configured database, brought up to date. Only a command that
    ``creates`` may set up a database that is not there; the others refuse it, so a command
    run in the wrong folder says so instead of starting an empty installation. Unless told
    not to (read-only commands), first says on stderr which database it works on."""
    label = database_label(settings)
    if announce:
        click.echo(f"Database: {label}", err=True)

    async def main() -> T:
        if creates:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
        services = Services.from_settings(settings)
        try:
            if not creates:
                await require_set_up(services.database, label)
            await upgrade(services.database)
            return await work(services)
        finally:
            await services.database.dispose()

    try:
        return asyncio.run(main())
    except UserError as error:
        raise click.ClickException(error.translated()) from error


def _in_transaction(
    settings: Settings, work: Callable[[Unit], Awaitable[T]], *, announce: bool = True
) -> T:
    async def run(services: Services) -> T:
        async with services.transaction() as unit:
            return await work(unit)

    return _run(settings, run, announce=announce)


def _set_up(settings: Settings) -> None:
    """Create or upgrade the database, and the administrator if no active one exists."""
    _show_first_admin(_run(settings, ensure_first_admin, creates=True))


def _show_first_admin(admin: FirstAdmin | None) -> None:
    if admin is None:
        return
    if admin.password is None:
        click.echo(
            f"No active administrator, and the username {admin.username} is taken: make "
            "someone an administrator with `counterline user set-role USERNAME admin`.",
            err=True,
        )
        return
    click.echo("=" * 60)
    click.echo("No active administrator yet: created the administrator account")
    click.echo(f"  username: {admin.username}")
    click.echo(f"  one-time password: {admin.password}")
    click.echo("You must choose a new password at first login.")
    click.echo("=" * 60)


@click.group()
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Data directory (default: ./data or $COUNTERLINE_DATA_DIR).",
)
@click.pass_context
def main(ctx: click.Context, data_dir: Path | None) -> None:
    """Counterline (窗口业务交流平台): live, on-the-record chat for counter staff."""
    ctx.obj = {"data_dir": data_dir}


@main.command()
@click.option("--host", default=None, help="Address to bind (default 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port (default 8000).")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None)
@click.option(
    "--workers",
    type=int,
    default=1,
    show_default=True,
    help="Processes to run; more than one needs COUNTERLINE_REDIS_URL.",
)
@click.option(
    "--access-log/--no-access-log",
    default=None,
    help="Log a line per request on stderr (default: off, or COUNTERLINE_ACCESS_LOG).",
)
@click.pass_context
def serve(
    ctx: click.Context,
    host: str | None,
    port: int | None,
    data_dir: Path | None,
    workers: int,
    access_log: bool | None,
) -> None:
    """Migrate the database, create the first admin if needed, and serve."""
    import uvicorn

    data_dir = data_dir or ctx.obj.get("data_dir")
    settings = load_settings(data_dir=data_dir, host=host, port=port, access_log=access_log)
    if workers > 1 and not settings.redis_url:
        raise click.ClickException(
            "--workers > 1 needs COUNTERLINE_REDIS_URL: without Redis the processes "
            "cannot share live events and presence."
        )
    if workers > 1 and settings.is_sqlite:
        raise click.ClickException(
            "--workers > 1 needs PostgreSQL (COUNTERLINE_DATABASE_URL): the embedded SQLite "
            "database is served by one process."
        )
    _set_up(settings)
    click.echo(
        f"Counterline on http://{settings.host}:{settings.port}  (data: {settings.data_dir})"
    )
    os.environ["COUNTERLINE_DATA_DIR"] = str(settings.data_dir)
    uvicorn.run(
        "counterline.asgi:build",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=workers,
        log_level="info",
        access_log=settings.access_log,
        **uvicorn_options(),
    )


@main.command()
@click.pass_context
def init(ctx: click.Context) -> None:
    """Create the database (in the data directory, or at COUNTERLINE_DATABASE_URL) and the
    administrator `admin`, printing its one-time password. Safe to run again."""
    _set_up(_settings(ctx))
    click.echo("Database is ready.")


@main.command()
@click.pass_context
def migrate(ctx: click.Context) -> None:
    """Apply database migrations (creating the database and the administrator if needed)."""
    _set_up(_settings(ctx))
    click.echo("Database is up to date.")


@main.group()
def branch() -> None:
    """Branches (business halls)."""


@branch.command("add")
@click.argument("name")
@click.pass_context
def branch_add(ctx: click.Context, name: str) -> None:
    """Add a branch and its branch room."""
    created = _in_transaction(_settings(ctx), lambda unit: people.add_branch(unit, name))
    click.echo(f"Added branch {created.name} (id {created.id}).")


@branch.command("list")
@click.pass_context
def branch_list(ctx: click.Context) -> None:
    """List branches."""
    branches = _in_transaction(
        _settings(ctx), lambda unit: list_branches(unit.session), announce=False
    )
    for item in branches:
        click.echo(f"{item.id}\t{item.name}")


@main.group()
def user() -> None:
    """User accounts."""


@user.command("add")
@click.argument("username")
@click.option("--name", "display_name", required=True, help="Display name.")
@click.option("--branch", "branch_name", required=True, help="Branch name.")
@click.option(
    "--role", type=click.Choice([r.value for r in Role]), default="clerk", show_default=True
)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.pass_context
def user_add(
    ctx: click.Context,
    username: str,
    display_name: str,
    branch_name: str,
    role: str,
    password_stdin: bool,
) -> None:
    """Add a user. Without --password-stdin, prints a one-time password."""
    password = sys.stdin.readline().rstrip("\r\n") if password_stdin else None

    async def work(unit: Unit) -> tuple[Any, str | None]:
        home = await accounts.get_branch_named(unit, branch_name)
        return await people.add_user(
            unit,
            username=username,
            display_name=display_name,
            branch=home,
            role=Role(role),
            password=password,
        )

    created, one_time = _in_transaction(_settings(ctx), work)
    click.echo(f"Added user {created.username} (id {created.id}).")
    if one_time:
        click.echo(f"One-time password: {one_time}")


@user.command("list")
@click.option("--branch", "branch_name", default=None, help="Only the people of this branch.")
@click.option(
    "--role", type=click.Choice([r.value for r in Role]), default=None, help="Only this role."
)
@click.pass_context
def user_list(ctx: click.Context, branch_name: str | None, role: str | None) -> None:
    """List accounts, deactivated ones too: username, name, branch, role, active or
    deactivated, last login (- if none is known)."""

    async def work(unit: Unit) -> list[Any]:
        home = await accounts.get_branch_named(unit, branch_name) if branch_name else None
        return list(
            await account_queries.list_accounts(
                unit.session,
                branch_id=home.id if home else None,
                role=Role(role) if role else None,
            )
        )

    for row in _in_transaction(_settings(ctx), work, announce=False):
        state = "active" if row.active else "deactivated"
        login = f"{row.last_login_at:%Y-%m-%d %H:%M}" if row.last_login_at else "-"
        click.echo(
            f"{row.username}\t{row.display_name}\t{row.branch_name}\t{row.role.value}"
            f"\t{state}\t{login}"
        )


@user.command("move")
@click.argument("username")
@click.option("--branch", "branch_name", required=True)
@click.pass_context
def user_move(ctx: click.Context, username: str, branch_name: str) -> None:
    """Move a user to another branch (their old messages keep their old branch)."""

    async def work(unit: Unit) -> None:
        target = await accounts.get_user_named(unit, username)
        home = await accounts.get_branch_named(unit, branch_name)
        await people.move_user(unit, target, home, actor_id=None)

    _in_transaction(_settings(ctx), work)
    click.echo(f"Moved {username} to {branch_name}.")


@user.command("unlock")
@click.argument("username")
@click.pass_context
def user_unlock(ctx: click.Context, username: str) -> None:
    """Forget USERNAME's failed logins, so no address has to wait before trying again."""

    async def work(unit: Unit) -> int:
        target = await accounts.get_user_named(unit, username)
        return await accounts.unlock_user(unit, target, actor_id=None)

    cleared = _in_transaction(_settings(ctx), work)
    click.echo(f"Unlocked {username} ({cleared} failed logins forgotten).")


@user.command("set-role")
@click.argument("username")
@click.argument("role", type=click.Choice([r.value for r in Role]))
@click.pass_context
def user_role(ctx: click.Context, username: str, role: str) -> None:
    """Give USERNAME another role; their open tabs follow within seconds."""

    async def work(unit: Unit) -> None:
        target = await accounts.get_user_named(unit, username)
        await accounts.change_role(unit, target, Role(role), actor_id=None)

    _in_transaction(_settings(ctx), work)
    click.echo(f"{username} is now {role}.")


# `user role`, its name before `set-role`, keeps working in scripts.
user.add_command(
    click.Command(
        "role",
        callback=user_role.callback,
        params=user_role.params,
        help="Same as set-role.",
        hidden=True,
    )
)


@user.command("reset-password")
@click.argument("username")
@click.pass_context
def user_reset_password(ctx: click.Context, username: str) -> None:
    """Give USERNAME a one-time password, printed once, to replace at the next login; all
    of their sessions end."""

    async def work(unit: Unit) -> str:
        target = await accounts.get_user_named(unit, username)
        return await accounts.reset_password(unit, target, actor_id=None)

    one_time = _in_transaction(_settings(ctx), work)
    click.echo(f"Reset the password of {username}; their sessions are ended.")
    click.echo(f"One-time password: {one_time}")


@user.command("deactivate")
@click.argument("username")
@click.pass_context
def user_deactivate(ctx: click.Context, username: str) -> None:
    """Deactivate USERNAME: logged out everywhere, API tokens revoked, history kept."""
    _set_active(ctx, username, active=False)
    click.echo(f"Deactivated {username}; their sessions and API tokens are ended.")


@user.command("reactivate")
@click.argument("username")
@click.pass_context
def user_reactivate(ctx: click.Context, username: str) -> None:
    """Let a deactivated USERNAME log in again."""
    _set_active(ctx, username, active=True)
    click.echo(f"Reactivated {username}.")


def _set_active(ctx: click.Context, username: str, *, active: bool) -> None:
    async def work(unit: Unit) -> None:
        target = await accounts.get_user_named(unit, username)
        await accounts.set_active(unit, target, active, actor_id=None)

    _in_transaction(_settings(ctx), work)


@main.group()
def audit() -> None:
    """The audit log."""


@audit.command("verify")
@click.option(
    "--head", default=None, help="A head hash noted earlier: it must still be in the log."
)
@click.pass_context
def audit_verify(ctx: click.Context, head: str | None) -> None:
    """Check the audit log's hash chain from the first entry to the newest; exit 1 naming the
    first broken entry if rows were changed, deleted or inserted in the database."""

    async def work(services: Services) -> ChainReport:
        async with services.reading() as unit:
            return await verify_chain(unit.session, head=head)

    report = _run(_settings(ctx), work, announce=False)
    if report.broken is not None:
        click.echo(
            f"Audit log broken at entry #{report.broken.entry_id} "
            f"({report.broken.problem}): {report.broken.explanation}.",
            err=True,
        )
        ctx.exit(1)
    head_entry = f"#{report.head_id}" if report.head_id is not None else "none"
    click.echo(f"Audit log intact: {report.entries} entries.")
    click.echo(f"Head: entry {head_entry}, hash {report.head_hash}")


@main.group()
def search() -> None:
    """The search index."""


@search.command("reindex")
@click.pass_context
def search_reindex(ctx: click.Context) -> None:
    """Rebuild the search index of every message and document (notices, FAQ entries) with
    the current dictionary of business terms (after terms were added or removed; the index
    stays usable meanwhile)."""
    indexed = _in_transaction(_settings(ctx), search_actions.reindex)
    click.echo(f"Search index rebuilt: {indexed.messages} messages, {indexed.documents} documents.")


@main.group()
def token() -> None:
    """API tokens."""


@token.command("create")
@click.argument("username")
@click.option("--label", default="", help="What the token is for (shown by `token list`).")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    type=click.Choice(["read", "post", "admin"]),
    help="What it may do (repeat; default: every scope of the user's role).",
)
@click.option(
    "--expires-in-days", type=click.IntRange(1, 3650), default=None, help="Default: never."
)
@click.pass_context
def token_create(
    ctx: click.Context,
    username: str,
    label: str,
    scopes: tuple[str, ...],
    expires_in_days: int | None,
) -> None:
    """Print a new API token for USERNAME (send it as `Authorization: Bearer <token>`)."""

    async def work(unit: Unit) -> str:
        owner = await accounts.get_user_named(unit, username)
        secret, _ = await accounts.create_api_token(
            unit, owner, label=label, scopes=scopes or None, expires_in_days=expires_in_days
        )
        return secret

    click.echo(_in_transaction(_settings(ctx), work))


@token.command("list")
@click.argument("username", required=False)
@click.pass_context
def token_list(ctx: click.Context, username: str | None) -> None:
    """List API tokens (of USERNAME, or everyone's): id, owner, label, created, last used,
    scopes, expiry."""

    async def work(unit: Unit) -> list[Any]:
        owner = await accounts.get_user_named(unit, username) if username else None
        return list(await account_queries.list_tokens(unit.session, owner.id if owner else None))

    tokens = _in_transaction(_settings(ctx), work, announce=False)
    for token_id, owner, label, created_at, last_used_at, scopes, expires_at in tokens:
        used = f"{last_used_at:%Y-%m-%d %H:%M}" if last_used_at else "-"
        expires = f"{expires_at:%Y-%m-%d %H:%M}" if expires_at else "-"
        click.echo(
            f"{token_id}\t{owner}\t{label or '-'}\t{created_at:%Y-%m-%d %H:%M}\t{used}"
            f"\t{scopes.replace(' ', ',')}\t{expires}"
        )


@token.command("revoke")
@click.argument("token_id", type=click.IntRange(1, 2**63 - 1))
@click.pass_context
def token_revoke(ctx: click.Context, token_id: int) -> None:
    """Revoke API token TOKEN_ID: it stops working and streams opened with it close."""

    async def work(unit: Unit) -> None:
        await accounts.revoke_api_token(unit, token_id, owner_id=None, actor_id=None)

    _in_transaction(_settings(ctx), work)
    click.echo(f"Revoked API token {token_id}.")


@main.command()
@click.argument("destination", type=click.Path(path_type=Path))
@click.pass_context
def backup(ctx: click.Context, destination: Path) -> None:
    """Copy the SQLite database to DESTINATION (a file, or a directory) while it runs, and
    the uploaded files not yet backed up to an `uploads` folder beside it."""
    settings = _settings(ctx)
    try:
        written = back_up(settings.effective_database_url, destination)
    except BackupError as error:
        raise click.ClickException(str(error)) from error
    files = copy_new_files(settings.effective_uploads_dir, written.parent / "uploads")
    click.echo(f"Backed up to {written}")
    click.echo(f"Uploaded files: {files} new, in {written.parent / 'uploads'}")


@main.command()
@click.argument("source", type=click.Path(path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_context
def restore(ctx: click.Context, source: Path, yes: bool) -> None:
    """Replace the SQLite database with the backup SOURCE. Stop the server first."""
    settings = _settings(ctx)
    click.echo(f"Database: {database_label(settings)}", err=True)
    if not yes:
        click.confirm(
            f"Replace the database in {settings.data_dir} with {source}? The server must be "
            "stopped",
            abort=True,
        )
    try:
        previous = restore_backup(settings.effective_database_url, source)
    except BackupError as error:
        raise click.ClickException(str(error)) from error
    if previous is not None:
        click.echo(f"The previous database was kept as {previous}")
    files = copy_new_files(source.parent / "uploads", settings.effective_uploads_dir)
    click.echo(f"Uploaded files restored: {files}")
    click.echo(f"Restored {source}; start the server again.")


@main.command()
@click.option("--password-stdin", is_flag=True, help="Read the demo users' password from stdin.")
@click.pass_context
def demo(ctx: click.Context, password_stdin: bool) -> None:
    """Load demo branches, people and a conversation (for trying Counterline out)."""
    password = sys.stdin.readline().rstrip("\r\n") if password_stdin else generate_password()
    usernames = _run(_settings(ctx), lambda services: load_demo(services, password))
    click.echo(f"Demo users: {', '.join(usernames)}")
    click.echo(f"Their password: {password}")
