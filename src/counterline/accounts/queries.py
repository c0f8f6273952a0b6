from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, bindparam, delete, func, select, text, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from counterline.accounts.models import ApiToken, KnownAddress, LoginAttempt, Role, Session, User
from counterline.branches.models import Branch
from counterline.locks import Namespace


async def find_user_by_username(db: AsyncSession, username: str) -> User | None:
    return await db.scalar(select(User).where(User.username == username))


async def find_user(db: AsyncSession, user_id: int) -> User | None:
    return await db.get(User, user_id)


async def list_directory(db: AsyncSession) -> Sequence[Row[Any]]:
    """Every active user with their branch's name, as plain rows: on a page of a
    thousand clerks, loading ORM objects cost more than everything else."""
    result = await db.execute(
        select(
            User.id,
            User.username,
            User.display_name,
            User.role,
            User.branch_id,
            Branch.name.label("branch_name"),
            User.last_seen_at,
        )
        .join(Branch, Branch.id == User.branch_id)
        .where(User.active.is_(True))
        .order_by(Branch.name, User.display_name, User.id)
    )
    return result.all()


# Desktop notification settings (GET/PUT /api/v1/account/notifications, inbox.routes).
_NOTIFICATION_SETTINGS = select(User.notify_level, User.notify_sound).where(
    User.id == bindparam("user_id")
)


async def notification_settings(db: AsyncSession, user_id: int) -> tuple[str, bool] | None:
    """Read on every room page: built once, run as Core."""
    connection = await db.connection()
    result = await connection.execute(_NOTIFICATION_SETTINGS, {"user_id": user_id})
    row = result.one_or_none()
    return None if row is None else (row[0], bool(row[1]))


async def set_notification_settings(db: AsyncSession, user_id: int, **values: Any) -> None:
    await db.execute(update(User).where(User.id == user_id).values(**values))


async def count_users(db: AsyncSession) -> int:
    return await db.scalar(select(func.count()).select_from(User)) or 0


async def count_active_admins(db: AsyncSession) -> int:
    query = select(func.count()).select_from(User).where(User.role == Role.admin, User.active)
    return await db.scalar(query) or 0


async def list_accounts(
    db: AsyncSession, *, branch_id: int | None = None, role: Role | None = None
) -> Sequence[Row[Any]]:
    """Every account, deactivated ones too, with its branch's name and its latest login
    (None when it never logged in), by branch and username."""
    last_login = (
        select(KnownAddress.user_id, func.max(KnownAddress.last_login_at).label("at"))
        .group_by(KnownAddress.user_id)
        .subquery()
    )
    query = (
        select(
            User.username,
            User.display_name,
            Branch.name.label("branch_name"),
            User.role,
            User.active,
            last_login.c.at.label("last_login_at"),
        )
        .join(Branch, Branch.id == User.branch_id)
        .outerjoin(last_login, last_login.c.user_id == User.id)
        .order_by(Branch.name, User.username)
    )
    if branch_id is not None:
        query = query.where(User.branch_id == branch_id)
    if role is not None:
        query = query.where(User.role == role)
    return (await db.execute(query)).all()


async def find_session_with_user(db: AsyncSession, token_hash: str) -> tuple[Session, User] | None:
    row = await db.execute(
        select(Session, User)
        .join(User, User.id == Session.user_id)
        .where(Session.token_hash == token_hash)
    )
    found = row.first()
    return (found[0], found[1]) if found else None


async def find_token_with_user(db: AsyncSession, token_hash: str) -> tuple[ApiToken, User] | None:
    row = await db.execute(
        select(ApiToken, User)
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.token_hash == token_hash)
    )
    found = row.first()
    return (found[0], found[1]) if found else None


async def find_token(db: AsyncSession, token_id: int) -> ApiToken | None:
    return await db.get(ApiToken, token_id)


async def list_tokens(db: AsyncSession, user_id: int | None = None) -> Sequence[Row[Any]]:
    """API tokens (of one user, or everyone's) with their owner's username, oldest first."""
    query = (
        select(
            ApiToken.id,
            User.username,
            ApiToken.label,
            ApiToken.created_at,
            ApiToken.last_used_at,
            ApiToken.scopes,
            ApiToken.expires_at,
        )
        .join(User, User.id == ApiToken.user_id)
        .order_by(ApiToken.id)
    )
    if user_id is not None:
        query = query.where(ApiToken.user_id == user_id)
    return (await db.execute(query)).all()


async def delete_tokens_of(db: AsyncSession, user_id: int) -> None:
    await db.execute(delete(ApiToken).where(ApiToken.user_id == user_id))


async def touch_token(db: AsyncSession, token_id: int, now: datetime) -> None:
    await db.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now))


async def touch_session(db: AsyncSession, session_id: int, now: datetime) -> None:
    await db.execute(update(Session).where(Session.id == session_id).values(last_used_at=now))


async def delete_session(db: AsyncSession, token_hash: str) -> Session | None:
    return await db.scalar(
        delete(Session).where(Session.token_hash == token_hash).returning(Session)
    )


async def delete_sessions_of(
    db: AsyncSession, user_id: int, except_id: int | None = None
) -> list[int]:
    """Delete a user's sessions (but ``except_id``); returns the ids deleted."""
    query = delete(Session).where(Session.user_id == user_id)
    if except_id is not None:
        query = query.where(Session.id != except_id)
    return list(await db.scalars(query.returning(Session.id)))


async def serialise_attempts(db: AsyncSession, username: str, client_ip: str) -> None:
    """Queue concurrent logins for one account, and for one address, so each attempt
    counts the failures committed before it and parallel guesses cannot outrun the limit.

    SQLite already has one writer at a time. On PostgreSQL, transaction-scoped advisory
    locks (account first, then address, so two attempts never wait on each other in a
    circle) do the same for just the attempts that compete.
    """
    if db.bind.dialect.name == "postgresql":
        for namespace, key in (
            (Namespace.LOGIN_ATTEMPTS_BY_USERNAME, username),
            (Namespace.LOGIN_ATTEMPTS_BY_ADDRESS, client_ip),
        ):
            await db.execute(
                text("SELECT pg_advisory_xact_lock(:namespace, hashtext(:key))"),
                {"namespace": namespace.value, "key": key},
            )


async def failures_since(
    db: AsyncSession, since: datetime, *, username: str | None = None, client_ip: str | None = None
) -> tuple[int, datetime | None]:
    """How many failed logins since ``since`` (by account, address or both), and the latest."""
    query = select(func.count(), func.max(LoginAttempt.at)).where(LoginAttempt.at >= since)
    if username is not None:
        query = query.where(LoginAttempt.username == username)
    if client_ip is not None:
        query = query.where(LoginAttempt.client_ip == client_ip)
    count, latest = (await db.execute(query)).one()
    return count, latest


async def clear_failures(db: AsyncSession, username: str, client_ip: str | None = None) -> int:
    """Forget an account's failed logins (from one address, or from all); returns how many."""
    query = delete(LoginAttempt).where(LoginAttempt.username == username)
    if client_ip is not None:
        query = query.where(LoginAttempt.client_ip == client_ip)
    result = await db.execute(query, execution_options={"synchronize_session": False})
    return result.rowcount


async def logged_in_from(db: AsyncSession, username: str, client_ip: str, since: datetime) -> bool:
    """Whether the account named ``username`` logged in from ``client_ip`` since ``since``
    (False for a name no account has, through the same query)."""
    query = (
        select(KnownAddress.user_id)
        .join(User, User.id == KnownAddress.user_id)
        .where(
            User.username == username,
            KnownAddress.client_ip == client_ip,
            KnownAddress.last_login_at >= since,
        )
    )
    return await db.scalar(query) is not None


async def remember_address(db: AsyncSession, user_id: int, client_ip: str, now: datetime) -> None:
    """Note a successful login of ``user_id`` from ``client_ip`` (insert or refresh)."""
    insert = postgresql_insert if db.bind.dialect.name == "postgresql" else sqlite_insert
    statement = insert(KnownAddress).values(user_id=user_id, client_ip=client_ip, last_login_at=now)
    await db.execute(
        statement.on_conflict_do_update(
            index_elements=[KnownAddress.user_id, KnownAddress.client_ip],
            set_={"last_login_at": statement.excluded.last_login_at},
        )
    )
