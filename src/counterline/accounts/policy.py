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
    ADMIN = "admin"


STAFF_ROLES = frozenset({Role.manager, Role.admin})
ROLES_OF: dict[Policy, frozenset[Role]] = {
    Policy.TRAINER_OR_ADMIN: frozenset({Role.trainer, Role.admin}),
    Policy.STAFF: STAFF_ROLES,
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


def views_audit_log(role: Role) -> bool:
    """Administrators read the audit log."""
    return allows(VIEWS_AUDIT_LOG, role)


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
