"""Typed instructions for the hubs that travel with an envelope (never sent to clients).

A control is a frozen dataclass registered under a name with ``@control("name")``, so it
crosses Redis as ``[name, fields]`` and every node decodes it into the same class. The hub
only calls ``apply``: a capability that needs a new instruction adds a class here or in its
own ``events.py``, and the hub needs no edit. Controls that concern a capability rather than
the sockets are :class:`Notice` s: the hub hands them to whoever listens (``Hub.on``).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

if TYPE_CHECKING:
    from counterline.realtime.hub import Hub

log = logging.getLogger(__name__)


class Control:
    """Base of hub controls. Subclasses are frozen dataclasses of JSON-friendly fields."""

    __slots__ = ()
    kind: ClassVar[str]
    # Also applied by the publishing process before the envelope leaves, not only when
    # it comes back through the broker (e.g. a logout forgets cached identities at once).
    at_publish: ClassVar[bool] = False

    def apply(self, hub: Hub) -> None:
        raise NotImplementedError

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)  # type: ignore[call-overload]

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Control:
        return cls(**data)


class Notice(Control):
    """A control for a capability, not for the sockets: the hub calls its listeners."""

    __slots__ = ()

    def apply(self, hub: Hub) -> None:
        hub.notify(self)


C = TypeVar("C", bound=Control)
_KINDS: dict[str, type[Control]] = {}


def control(kind: str) -> Callable[[type[C]], type[C]]:
    """Register a control class under ``kind``, the name it crosses Redis with."""

    def register(cls: type[C]) -> type[C]:
        known = _KINDS.get(kind)
        if known is not None and _name_of(known) != _name_of(cls):
            raise ValueError(f"two controls are named {kind!r}: {known} and {cls}")
        cls.kind = kind
        _KINDS[kind] = cls
        return cls

    return register


def _name_of(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def encode_controls(controls: Iterable[Control]) -> list[list[Any]]:
    return [[item.kind, item.to_dict()] for item in controls]


def decode_controls(raw: Iterable[list[Any]]) -> tuple[Control, ...]:
    """The controls of a received envelope; a kind this process does not know (another
    version of Counterline) is skipped, as the hub cannot apply it anyway."""
    decoded = []
    for kind, data in raw:
        cls = _KINDS.get(kind)
        if cls is None:
            log.warning("skipping a hub control of unknown kind %r", kind)
        else:
            decoded.append(cls.from_dict(data))
    return tuple(decoded)


@control("subscribe")
@dataclass(frozen=True, slots=True)
class Subscribe(Control):
    """The user's sockets on every node start receiving ``stream``."""

    user_id: int
    stream: str

    def apply(self, hub: Hub) -> None:
        hub.subscribe_user(self.user_id, self.stream)


@control("unsubscribe")
@dataclass(frozen=True, slots=True)
class Unsubscribe(Control):
    """The user's sockets on every node stop receiving ``stream``."""

    user_id: int
    stream: str

    def apply(self, hub: Hub) -> None:
        hub.unsubscribe_user(self.user_id, self.stream)


@control("close_session")
@dataclass(frozen=True, slots=True)
class CloseSession(Control):
    """Sockets of this session are closed as logged out, on every node."""

    user_id: int
    session_id: int

    def apply(self, hub: Hub) -> None:
        hub.close_session(self.user_id, self.session_id)
