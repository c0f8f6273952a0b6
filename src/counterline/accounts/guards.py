"""Route policies as FastAPI dependencies: a route states who may call it by the type of its
identity parameter (``identity: Identified``) or, when it does not look at the caller, with
``dependencies=[PUBLIC]``.

Each dependency declares its ``Policy`` (read from the route table by tests/test_policies.py)
and is a single dependency: the hot routes pay one call for identity and policy together.
A refusal is ``Unauthorized`` (not logged in), ``PasswordChangeRequired`` or ``Forbidden``;
the API answers it with JSON, a page with a redirect to the login or password page
(``web.errors``). Rules that depend on data (room membership) stay in the actions.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends
from starlette.requests import HTTPConnection

from counterline.accounts.actions import Identity
from counterline.accounts.policy import (
    HOLDS_ADMIN_SCOPE,
    ROLES_OF,
    Policy,
    TokenScope,
    declares,
)
from counterline.deps import Caller, caller_of, find_identity
from counterline.errors import Forbidden, PasswordChangeRequired, Unauthorized
from counterline.i18n import N_

ROLE_REFUSED = N_("Your role does not allow this.")


@declares(Policy.PUBLIC)
async def public() -> None:
    """For public routes that do not look at the caller (health, the API reference)."""


PUBLIC = Depends(public)


@declares(Policy.PUBLIC)
async def anyone(connection: HTTPConnection) -> Identity | None:
    return await find_identity(connection)


Anyone = Annotated[Identity | None, Depends(anyone)]


@declares(Policy.LOGGED_IN)
async def logged_in(connection: HTTPConnection) -> Identity:
    identity = await find_identity(connection)
    if identity is None:
        raise Unauthorized(N_("Please log in."))
    return identity


LoggedIn = Annotated[Identity, Depends(logged_in)]


@declares(Policy.IDENTIFIED)
async def identified(connection: HTTPConnection) -> Identity:
    identity = await logged_in(connection)
    if identity.user.must_change_password:
        raise PasswordChangeRequired(N_("Please choose your own password first."))
    return identity


Identified = Annotated[Identity, Depends(identified)]


@declares(Policy.IDENTIFIED)
async def identified_caller(connection: HTTPConnection) -> Caller:
    """``Identified``, with the services and the client address: one dependency for the
    post route rather than three for FastAPI to solve on every post."""
    return caller_of(connection, await identified(connection))


IdentifiedCaller = Annotated[Caller, Depends(identified_caller)]


def role_guard(
    policy: Policy, refusal: str = ROLE_REFUSED
) -> Callable[[HTTPConnection], Awaitable[Identity]]:
    """A dependency admitting identified users whose role the policy allows. ``refusal``
    (an N_ msgid) can name what was refused, as the action it guards does."""
    roles = ROLES_OF[policy]
    # An administrator's API token acts as one only with the admin scope, wherever the
    # route is (deps.find_identity checks /api/v1/admin/... by path already).
    needs_admin_scope = policy == HOLDS_ADMIN_SCOPE

    @declares(policy)
    async def guard(connection: HTTPConnection) -> Identity:
        identity = await identified(connection)
        if identity.user.role not in roles:
            raise Forbidden(refusal)
        if needs_admin_scope:
            identity.check_scope(TokenScope.admin)
        return identity

    return guard


TrainerOrAdmin = Annotated[Identity, Depends(role_guard(Policy.TRAINER_OR_ADMIN))]
StaffOnly = Annotated[Identity, Depends(role_guard(Policy.STAFF))]
AdminOnly = Annotated[Identity, Depends(role_guard(Policy.ADMIN))]
