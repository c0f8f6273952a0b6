from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from concurrent.futures import Executor
from dataclasses import dataclass
from datetime import datetime, timedelta

from counterline.access_feed import access_changed
from counterline.accounts import queries, throttling
from counterline.accounts.events import AccountChanged, SessionEnded
from counterline.accounts.models import ApiToken, LoginAttempt, Role, Session, User
from counterline.accounts.policy import TokenScope, scopes_of_role
from counterline.accounts.secrets import (
    generate_password,
    hash_password,
    new_token,
    token_hash,
    verify_password,
)
from counterline.audit.actions import record
from counterline.branches.models import Branch
from counterline.branches.queries import find_branch_by_name
from counterline.db import Unit, utcnow
from counterline.errors import Forbidden, NotFound, Unauthorized, UserError
from counterline.i18n import N_

MIN_PASSWORD_LENGTH = 8
_USERNAME = re.compile(r"^[\w.@-]{2,64}$")
BAD_LOGIN = N_("Wrong username or password.")


def check_username(username: str) -> str:
    username = unicodedata.normalize("NFKC", username.strip())
    if not _USERNAME.fullmatch(username):
        raise UserError(
            N_("A username has 2 to 64 letters, digits or the characters . _ - @ and no spaces.")
        )
    return username


def check_display_name(name: str) -> str:
    name = name.replace("\x00", "").strip()  # PostgreSQL keeps no NUL in text
    if not name or len(name) > 100:
        raise UserError(N_("A display name has 1 to 100 characters."))
    return name


def check_new_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(N_("A password needs at least %(n)s characters."), n=MIN_PASSWORD_LENGTH)
    if len(password) > 256:
        raise UserError(N_("A password has at most 256 characters."))
    return password


async def create_user(
    unit: Unit,
    *,
    username: str,
    display_name: str,
    branch: Branch,
    role: Role,
    password: str | None = None,
    prepared: PreparedPassword | None = None,
    actor_id: int | None = None,
) -> tuple[User, str | None]:
    """Create a user's account (``people.actions.add_user`` also places them in their home
    rooms). Without a password, returns a one-time one. ``prepared`` (instead of
    ``password``) is one already hashed outside the transaction, as imports do."""
    username = check_username(username)
    if await queries.find_user_by_username(unit.session, username):
        raise UserError(N_("The username %(name)s is taken."), name=username)
    display_name = check_display_name(display_name)
    prepared = prepared or await prepare_password(password)
    user = User(
        username=username,
        display_name=display_name,
        branch_id=branch.id,
        role=role,
        password_hash=prepared.password_hash,
        must_change_password=prepared.one_time is not None,
    )
    unit.session.add(user)
    await unit.session.flush()
    record(
        unit,
        "user.added",
        actor_id=actor_id,
        target=f"user:{user.id}",
        username=username,
        branch_id=branch.id,
        role=role.value,
    )
    return user, prepared.one_time


@dataclass(frozen=True, slots=True)
class PreparedPassword:
    """A new account's password hash, and the one-time password it hashes (None when the
    password was chosen, so need not be changed at first login)."""

    password_hash: str
    one_time: str | None


async def prepare_password(
    password: str | None, executor: Executor | None = None
) -> PreparedPassword:
    """Check a chosen password, or make a one-time one, and hash it (in a thread, or in
    ``executor``)."""
    if password is None:
        one_time = generate_password()
        return PreparedPassword(await _hash(one_time, executor), one_time)
    check_new_password(password)
    return PreparedPassword(await _hash(password, executor), None)


async def _hash(password: str, executor: Executor | None) -> str:
    # Called with one argument when it can be (bench.seed swaps in a one-argument stand-in).
    if executor is None:
        return await hash_password(password)
    return await hash_password(password, executor)


async def change_branch(
    unit: Unit, user: User, new_branch: Branch, *, actor_id: int | None
) -> Branch | None:
    """Put a user's account in another branch; returns the branch they left, or None if
    they were in ``new_branch`` already (``people.actions.move_user`` moves their rooms)."""
    if user.branch_id == new_branch.id:
        return None
    old_branch = await unit.session.get(Branch, user.branch_id)
    assert old_branch is not None
    user.branch_id = new_branch.id
    unit.emit(AccountChanged(user_id=user.id))
    record(
        unit,
        "user.moved",
        actor_id=actor_id,
        target=f"user:{user.id}",
        from_branch=old_branch.id,
        to_branch=new_branch.id,
    )
    return old_branch


async def get_branch_named(unit: Unit, name: str) -> Branch:
    branch = await find_branch_by_name(unit.session, name.strip())
    if branch is None:
        raise NotFound(N_("There is no branch named %(name)s."), name=name)
    return branch


async def get_user_named(unit: Unit, username: str) -> User:
    user = await queries.find_user_by_username(unit.session, username.strip())
    if user is None:
        raise NotFound(N_("There is no user named %(name)s."), name=username)
    return user


@dataclass
class LoginResult:
    """What a login attempt came to. The failure is recorded even though login failed."""

    user: User | None = None
    session_token: str | None = None
    csrf_token: str | None = None
    error: UserError | None = None


@dataclass(frozen=True, slots=True)
class PasswordVerdict:
    """The password checked against the hash an account had (``check_password``), before
    the write transaction of ``log_in``: argon2 takes tens of milliseconds, and inside
    that transaction it would hold every other write back (on SQLite, one writer)."""

    username: str
    password_hash: str | None
    valid: bool

    def holds_for(self, username: str, user: User | None) -> bool:
        """Whether it is about this account's hash as it is now (not changed since)."""
        return self.username == username and self.password_hash == (
            user.password_hash if user else None
        )


def _login_name(username: str) -> str:
    return unicodedata.normalize("NFKC", username.strip())[:64]


async def _throttled(
    unit: Unit, username: str, client_ip: str, now: datetime
) -> tuple[list[throttling.Tally], timedelta]:
    """The tallies, and how long this attempt must wait (zero or less: it may go on)."""
    tallies = await throttling.tally(unit.session, username, client_ip, now)
    known = await throttling.is_known_address(unit.session, username, client_ip, now)
    return tallies, throttling.wait(tallies, known, now)


async def check_password(
    unit: Unit, username: str, password: str, client_ip: str
) -> PasswordVerdict | None:
    """Read-only first step of a login: None if the attempt must wait anyway (``log_in``
    says so), else the password's verdict for ``log_in`` to use."""
    username = _login_name(username)
    _, remaining = await _throttled(unit, username, client_ip, utcnow())
    if remaining > timedelta(0):
        return None
    user = await queries.find_user_by_username(unit.session, username)
    stored = user.password_hash if user else None
    return PasswordVerdict(username, stored, await verify_password(stored, password[:256]))


async def log_in(
    unit: Unit,
    username: str,
    password: str,
    client_ip: str,
    verdict: PasswordVerdict | None = None,
) -> LoginResult:
    """Check throttling, then the password (``verdict``, if it still holds, saves checking
    it here); on success open a fresh session. Attempts are serialised and counted here,
    so parallel guesses cannot outrun the limit whatever their verdicts said."""
    username = _login_name(username)
    await queries.serialise_attempts(unit.session, username, client_ip)
    now = utcnow()
    tallies, remaining = await _throttled(unit, username, client_ip, now)
    if remaining > timedelta(0):
        return LoginResult(error=throttling.refusal(remaining))
    user = await queries.find_user_by_username(unit.session, username)
    if verdict is not None and verdict.holds_for(username, user):
        valid = verdict.valid
    else:
        valid = await verify_password(user.password_hash if user else None, password[:256])
    if user is None or not valid or not user.active:
        unit.session.add(LoginAttempt(username=username, client_ip=client_ip, at=now))
        record(unit, "login.failed", target=f"username:{username}", client_ip=client_ip)
        _record_crossings(unit, tallies, username, client_ip, now)
        return LoginResult(error=Unauthorized(BAD_LOGIN))
    await queries.clear_failures(unit.session, username, client_ip)
    await queries.remember_address(unit.session, user.id, client_ip, now)
    token, session = await start_session(unit, user, client_ip)
    record(unit, "login.succeeded", actor_id=user.id, target=f"user:{user.id}", client_ip=client_ip)
    return LoginResult(user=user, session_token=token, csrf_token=session.csrf_token)


async def log_in_replacing(
    unit: Unit,
    old_token: str | None,
    username: str,
    password: str,
    client_ip: str,
    verdict: PasswordVerdict | None = None,
) -> LoginResult:
    """Log in from a browser that may still hold a session: that session ends first, so on
    a shared counter PC the previous clerk's session never outlives the next login."""
    if old_token:
        await log_out(unit, old_token, client_ip)
    return await log_in(unit, username, password, client_ip, verdict)


def _record_crossings(
    unit: Unit, tallies: list[throttling.Tally], username: str, client_ip: str, now: datetime
) -> None:
    """Audit each delay this failure starts (once per crossing; refusals are not recorded)."""
    for rule in throttling.crossed(tallies):
        until = now + throttling.delay_after(rule.free, rule.free)
        record(
            unit,
            "login.throttled",
            target=f"username:{username}",
            client_ip=client_ip,
            username=username,
            rule=rule.name,
            until=until.isoformat(),
        )


async def unlock_user(unit: Unit, user: User, actor_id: int | None) -> int:
    """Forget the account's failed logins from every address, ending its delays; returns
    how many failures were forgotten."""
    cleared = await queries.clear_failures(unit.session, user.username)
    record(unit, "user.unlocked", actor_id=actor_id, target=f"user:{user.id}", failures=cleared)
    return cleared


async def start_session(unit: Unit, user: User, client_ip: str) -> tuple[str, Session]:
    """A fresh session (a new id at every login). Returns the cookie token and the row."""
    token = new_token()
    session = Session(
        token_hash=token_hash(token), user_id=user.id, csrf_token=new_token(), client_ip=client_ip
    )
    unit.session.add(session)
    await unit.session.flush()
    return token, session


async def log_out(unit: Unit, session_token: str, client_ip: str) -> None:
    session = await queries.delete_session(unit.session, token_hash(session_token))
    if session is not None:
        unit.emit(SessionEnded(user_id=session.user_id, session_id=session.id))
        access_changed(unit, session.user_id)
        record(
            unit,
            "logout",
            actor_id=session.user_id,
            target=f"user:{session.user_id}",
            client_ip=client_ip,
        )


@dataclass
class Identity:
    """Who is making a request, and how they proved it."""

    user: User
    session: Session | None = None
    token_id: int | None = None
    token: ApiToken | None = None  # its row, when proved by an API token: scopes, expiry

    @property
    def csrf_token(self) -> str | None:
        return self.session.csrf_token if self.session else None

    def check_scope(self, needed: TokenScope) -> None:
        """Refuse (403) a request made with an API token that lacks the scope it needs;
        sessions hold every right of their user."""
        if self.token is None or needed in token_scopes(self.token):
            return
        raise Forbidden(
            N_("This API token may not do this: it needs the scope “%(scope)s”."),
            scope=needed.value,
        )


SESSION_TOUCH_INTERVAL = timedelta(minutes=1)


async def identify_by_session(
    unit: Unit, session_token: str, *, idle: timedelta, absolute: timedelta
) -> Identity | None:
    """The live session behind a cookie token, or None if unknown or expired (read only)."""
    found = await queries.find_session_with_user(unit.session, token_hash(session_token))
    if found is None:
        return None
    identity = Identity(user=found[1], session=found[0])
    return identity if is_live(identity, idle=idle, absolute=absolute) else None


def is_live(identity: Identity, *, idle: timedelta, absolute: timedelta) -> bool:
    """Whether the identity's user is active and its session (if any) has not expired."""
    session = identity.session
    if not identity.user.active:
        return False
    token = identity.token
    if token is not None and token.expires_at is not None and token.expires_at <= utcnow():
        return False
    if session is None:
        return True
    now = utcnow()
    return now - session.last_used_at <= idle and now - session.created_at <= absolute


def session_needs_touch(identity: Identity) -> bool:
    """Whether the idle expiry is due to be pushed back: at most once a minute, so that
    most requests stay read-only."""
    session, token = identity.session, identity.token
    if token is not None:  # an API token's "last used", as coarse
        used = token.last_used_at
        return used is None or utcnow() - used > SESSION_TOUCH_INTERVAL
    return session is not None and utcnow() - session.last_used_at > SESSION_TOUCH_INTERVAL


async def touch_session(unit: Unit, identity: Identity) -> None:
    session, token = identity.session, identity.token
    if not session_needs_touch(identity):
        return
    now = utcnow()
    if session is not None:
        await queries.touch_session(unit.session, session.id, now)
        session.last_used_at = now
    if token is not None:
        await queries.touch_token(unit.session, token.id, now)
        token.last_used_at = now


async def identify_by_token(unit: Unit, api_token: str) -> Identity | None:
    found = await queries.find_token_with_user(unit.session, token_hash(api_token))
    if found is None or not found[1].active:
        return None
    identity = Identity(user=found[1], token_id=found[0].id, token=found[0])
    return identity if is_live(identity, idle=timedelta(0), absolute=timedelta(0)) else None


async def reload(unit: Unit, identity: Identity) -> Identity:
    """The same identity with its user loaded in this unit, ready to be changed."""
    user = await unit.session.get(User, identity.user.id)
    assert user is not None
    return Identity(
        user=user, session=identity.session, token_id=identity.token_id, token=identity.token
    )


MAX_TOKEN_LABEL = 100


MAX_TOKEN_DAYS = 3650


def token_scopes(token: ApiToken) -> frozenset[TokenScope]:
    return frozenset(TokenScope(name) for name in token.scopes.split() if name in _SCOPE_NAMES)


_SCOPE_NAMES = frozenset(scope.value for scope in TokenScope)


def check_scopes(
    user: User, scopes: Iterable[str] | None, within: frozenset[TokenScope] | None = None
) -> frozenset[TokenScope]:
    """The scopes asked for (None: every scope of the user's role); refused when unknown
    or beyond the role (``admin`` only for administrators), or beyond ``within`` (the
    scopes of the token a new one is made with: a token cannot make a stronger one)."""
    allowed = scopes_of_role(user.role)
    if within is not None:
        allowed = allowed & within
        if scopes is None:
            return allowed
    if scopes is None:
        return allowed
    wanted = set(scopes)
    if not wanted:
        raise UserError(N_("Choose at least one scope for the token."))
    unknown = wanted - _SCOPE_NAMES
    if unknown:
        raise UserError(N_("Unknown token scope: %(scope)s."), scope=sorted(unknown)[0][:20])
    chosen = frozenset(TokenScope(name) for name in wanted)
    if within is not None and not chosen <= allowed:
        raise Forbidden(N_("A token can only make tokens with the scopes it holds itself."))
    if not chosen <= allowed:
        raise Forbidden(N_("Only administrators may hold tokens with the scope “admin”."))
    return chosen


def _scopes_text(scopes: Iterable[TokenScope]) -> str:
    return " ".join(scope.value for scope in TokenScope if scope in set(scopes))


async def create_api_token(
    unit: Unit,
    user: User,
    *,
    label: str = "",
    scopes: Iterable[str] | None = None,
    expires_in_days: int | None = None,
    within: frozenset[TokenScope] | None = None,
    actor_id: int | None = None,
    client_ip: str = "",
) -> tuple[str, ApiToken]:
    """A new API token for ``user``: the secret (shown once) and its row. Without
    ``scopes``, every scope of the user's role; without ``expires_in_days``, no expiry."""
    if len(label) > MAX_TOKEN_LABEL:  # as written, as the API schema states it
        raise UserError(N_("A token label has at most %(n)s characters."), n=MAX_TOKEN_LABEL)
    label = label.strip()
    chosen = check_scopes(user, scopes, within)
    expires_at = None
    if expires_in_days is not None:
        if not 1 <= expires_in_days <= MAX_TOKEN_DAYS:
            raise UserError(
                N_("A token expires after 1 to %(n)s days, or never."), n=MAX_TOKEN_DAYS
            )
        expires_at = utcnow() + timedelta(days=expires_in_days)
    secret = new_token("cl_")
    token = ApiToken(
        token_hash=token_hash(secret),
        user_id=user.id,
        label=label,
        scopes=_scopes_text(chosen),
        expires_at=expires_at,
    )
    unit.session.add(token)
    await unit.session.flush()
    record(
        unit,
        "token.created",
        actor_id=actor_id,
        target=f"user:{user.id}",
        client_ip=client_ip,
        token_id=token.id,
        label=label,
        scopes=token.scopes,
        expires_at=expires_at.isoformat() if expires_at else None,
    )
    return secret, token


async def revoke_api_token(
    unit: Unit, token_id: int, *, owner_id: int | None, actor_id: int | None, client_ip: str = ""
) -> ApiToken:
    """Revoke a token (only one of ``owner_id``'s, when given); streams opened with it close."""
    token = await queries.find_token(unit.session, token_id)
    if token is None or (owner_id is not None and token.user_id != owner_id):
        raise NotFound(N_("There is no such API token."))
    await unit.session.delete(token)
    access_changed(unit, token.user_id)
    record(
        unit,
        "token.revoked",
        actor_id=actor_id,
        target=f"user:{token.user_id}",
        client_ip=client_ip,
        token_id=token_id,
    )
    return token


async def change_role(unit: Unit, user: User, role: Role, *, actor_id: int | None) -> None:
    """Give a user another role; their open tabs follow it (e.g. client IPs shown or not)."""
    if user.role == role:
        return
    previous, user.role = user.role, role
    unit.emit(AccountChanged(user_id=user.id))
    access_changed(unit, user.id)
    record(
        unit,
        "user.role_changed",
        actor_id=actor_id,
        target=f"user:{user.id}",
        from_role=previous.value,
        to_role=role.value,
    )


async def set_active(unit: Unit, user: User, active: bool, *, actor_id: int | None) -> None:
    """Deactivate (never delete: history stays attributed) or reactivate a user.

    Deactivating ends every session and revokes every API token of the user; their open
    tabs and streams close within seconds on every node.
    """
    if user.active == active:
        return
    user.active = active
    unit.emit(AccountChanged(user_id=user.id))
    if not active:
        _end_sessions(unit, user.id, await queries.delete_sessions_of(unit.session, user.id))
        await queries.delete_tokens_of(unit.session, user.id)
    access_changed(unit, user.id)
    record(
        unit,
        "user.reactivated" if active else "user.deactivated",
        actor_id=actor_id,
        target=f"user:{user.id}",
    )


async def reset_password(unit: Unit, user: User, *, actor_id: int | None) -> str:
    """Give a user who forgot her password a one-time one (returned, to hand over once),
    which she must replace at her next login; every session of hers ends, so whoever
    knew the old password is logged out too."""
    one_time = generate_password()
    user.password_hash = await hash_password(one_time)
    user.must_change_password = True
    unit.emit(AccountChanged(user_id=user.id))
    _end_sessions(unit, user.id, await queries.delete_sessions_of(unit.session, user.id))
    record(unit, "user.password_reset", actor_id=actor_id, target=f"user:{user.id}")
    return one_time


def _end_sessions(unit: Unit, user_id: int, session_ids: list[int]) -> None:
    for session_id in session_ids:
        unit.emit(SessionEnded(user_id=user_id, session_id=session_id))
    if session_ids:
        access_changed(unit, user_id)


async def change_password(
    unit: Unit, identity: Identity, current: str, new: str, client_ip: str
) -> None:
    user = identity.user
    if not await verify_password(user.password_hash, current[:256]):
        raise UserError(N_("The current password is wrong."))
    check_new_password(new)
    if new == current:
        raise UserError(N_("The new password must differ from the current one."))
    user.password_hash = await hash_password(new)
    user.must_change_password = False
    unit.emit(AccountChanged(user_id=user.id))
    keep = identity.session.id if identity.session else None
    ended = await queries.delete_sessions_of(unit.session, user.id, except_id=keep)
    _end_sessions(unit, user.id, ended)
    record(
        unit, "password.changed", actor_id=user.id, target=f"user:{user.id}", client_ip=client_ip
    )


async def set_language(unit: Unit, user: User, language: str) -> None:
    if language not in ("zh_CN", "en"):
        raise UserError(N_("Unknown language."))
    user.language = language
    unit.emit(AccountChanged(user_id=user.id))


async def add_bot_user(
    unit: Unit, *, username: str, display_name: str, branch_id: int, active: bool
) -> User:
    """A user row for a program, without a password (nobody logs in as it): ``active``
    for a bot that holds tokens, inactive for one that only authors posts (a webhook's,
    the portal's status notices): inactive accounts hold no token and stay out of the
    directory and member lists."""
    user = User(
        username=username,
        display_name=display_name,
        branch_id=branch_id,
        role=Role.clerk,
        password_hash="",
        must_change_password=False,
        active=active,
    )
    unit.session.add(user)
    await unit.session.flush()
    return user
