"""Who may do what: the roles, the policies a route declares, and each role's abilities.

Every rule naming roles lives here. Route dependencies (``accounts.guards``), actions called
from the CLI (``rooms.actions``) and what a viewer is shown (client addresses) all read it.
This module imports nothing of ours, so models and actions can use it without a cycle.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import TypeVar


class Role(enum.StrEnum):
    clerk = "clerk"
    trainer = "trainer"
    manager = "manager"
    admin = "admin"


class Policy(enum.StrEnum):
    """What a route requires of its caller, weakest first."""

    PUBLIC = "public"  # anyone, logged in or not
    LOGGED_IN = "logged in"  # may still have to replace the one-time password
    IDENTIFIED = "identified"  # logged in with their own password: every role
    TRAINER_OR_ADMIN = "trainer or admin"
    STAFF = "staff"  # managers and administrators
    PUBLISHER = "trainer, manager or admin"  # notices: managers to their own branch
    ADMIN = "admin"


STAFF_ROLES = frozenset({Role.manager, Role.admin})
ROLES_OF: dict[Policy, frozenset[Role]] = {
    Policy.TRAINER_OR_ADMIN: frozenset({Role.trainer, Role.admin}),
    Policy.STAFF: STAFF_ROLES,
    Policy.PUBLISHER: frozenset({Role.trainer, Role.manager, Role.admin}),
    Policy.ADMIN: frozenset({Role.admin}),
}


def allows(policy: Policy, role: Role) -> bool:
    """Whether an identified user of ``role`` passes ``policy``."""
    return role in ROLES_OF.get(policy, frozenset(Role))


# The abilities: each is one of the policies above.
CREATES_TOPIC_ROOMS = Policy.TRAINER_OR_ADMIN
SEES_CLIENT_IPS = Policy.STAFF
ADDS_MEMBERS_TO_ANY_ROOM = Policy.ADMIN
EDITS_ANY_MESSAGE = Policy.ADMIN
SEES_MESSAGE_HISTORY = Policy.STAFF
EXPORTS_RECORD = Policy.STAFF
EXPORTS_ANY_ROOM = Policy.ADMIN
EDITS_SEARCH_TERMS = Policy.TRAINER_OR_ADMIN
VIEWS_AUDIT_LOG = Policy.ADMIN
MANAGES_USERS = Policy.ADMIN  # the users console: create, edit, deactivate, import
USES_ADMIN_CONSOLE = Policy.ADMIN  # /admin, branches and rooms, site settings
ARCHIVES_ROOMS = Policy.ADMIN
MANAGES_PORTAL = Policy.ADMIN  # the portal's entries; sees every entry's icon
PUBLISHES_NOTICES = Policy.PUBLISHER
OVERSEES_ALL_NOTICES = Policy.TRAINER_OR_ADMIN
CURATES_FAQ = Policy.TRAINER_OR_ADMIN  # accept answers, write and edit FAQ entries


def archives_rooms(role: Role) -> bool:
    """Administrators archive rooms and branches (read-only, history kept)."""
    return allows(ARCHIVES_ROOMS, role)


def creates_topic_rooms(role: Role) -> bool:
    return allows(CREATES_TOPIC_ROOMS, role)


def sees_client_ips(role: Role) -> bool:
    """Managers and administrators see the client address of every message."""
    return allows(SEES_CLIENT_IPS, role)


def adds_members_to_any_room(role: Role) -> bool:
    """Administrators add members to any topic room, not only to the ones they created."""
    return allows(ADDS_MEMBERS_TO_ANY_ROOM, role)


def edits_any_message(role: Role) -> bool:
    """Administrators edit and delete any message of a room they are in, at any time; others
    only their own, within the edit window."""
    return allows(EDITS_ANY_MESSAGE, role)


def sees_message_history(role: Role) -> bool:
    """Managers and administrators see every version of a message, and deleted messages."""
    return allows(SEES_MESSAGE_HISTORY, role)


def exports_record(role: Role) -> bool:
    """Managers and administrators export the record of a room they are in, or a search
    result, with authors, branches, addresses and edits (each export is audited)."""
    return allows(EXPORTS_RECORD, role)


def exports_any_room(role: Role) -> bool:
    """Administrators export any room, conversations included: the one way anyone outside
    a conversation reads it, and it is audited."""
    return allows(EXPORTS_ANY_ROOM, role)


def edits_search_terms(role: Role) -> bool:
    """Trainers and administrators edit the business terms search segments Chinese by."""
    return allows(EDITS_SEARCH_TERMS, role)


def curates_faq(role: Role) -> bool:
    """Trainers and administrators accept answers to questions and edit the FAQ; anyone
    marks their own message as a question."""
    return allows(CURATES_FAQ, role)


def views_audit_log(role: Role) -> bool:
    """Administrators read the audit log."""
    return allows(VIEWS_AUDIT_LOG, role)


# API token scopes: what a request made with a token may do, read from its method and path
# (``scope_needed``), so a new route is covered without declaring anything.
class TokenScope(enum.StrEnum):
    read = "read"  # GET/HEAD: rooms, messages, search, the inbox, the stream
    post = "post"  # every other method: post and edit messages, upload, mark read...
    admin = "admin"  # the admin API (/api/v1/admin/..., and every ADMIN route)


HOLDS_ADMIN_SCOPE = Policy.ADMIN
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# POST routes that change nothing (they compute an answer from the body).
READ_ONLY_POSTS = frozenset({"/api/v1/messages/preview"})
ADMIN_API_PREFIX = "/api/v1/admin/"


def scopes_of_role(role: Role) -> frozenset[TokenScope]:
    """Every scope a token of a user with ``role`` may hold: admin only for administrators."""
    if allows(HOLDS_ADMIN_SCOPE, role):
        return frozenset(TokenScope)
    return frozenset({TokenScope.read, TokenScope.post})


def scope_needed(method: str, path: str) -> TokenScope:
    """The scope a token needs for a request (a WebSocket handshake counts as GET)."""
    if path.startswith(ADMIN_API_PREFIX):
        return TokenScope.admin
    if method.upper() in READ_METHODS or path in READ_ONLY_POSTS:
        return TokenScope.read
    return TokenScope.post


def publishes_notices(role: Role) -> bool:
    """Trainers, managers (to their own branch) and administrators publish notices."""
    return allows(PUBLISHES_NOTICES, role)


def oversees_all_notices(role: Role) -> bool:
    """Trainers and administrators see every notice's compliance; managers their branch's."""
    return allows(OVERSEES_ALL_NOTICES, role)


# Declaring a route's policy: the dependency that enforces it carries it, so a test can
# read every route's policy from the route table (tests/test_policies.py).
_Call = TypeVar("_Call", bound=Callable[..., object])


def declares(policy: Policy) -> Callable[[_Call], _Call]:
    def mark(call: _Call) -> _Call:
        call.policy = policy  # type: ignore[attr-defined]
        return call

    return mark


def policy_of(call: object) -> Policy | None:
    """The policy a dependency declares, if it is a policy dependency."""
    return getattr(call, "policy", None)
