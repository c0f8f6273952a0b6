"""The ids and tokens of a seeded bench database (kept free of Counterline imports, so the
bare baseline servers stay small)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

PASSWORD = "bench-pass-1"


@dataclass
class BenchUser:
    id: int
    username: str
    token: str
    branch_room_id: int


@dataclass
class Manifest:
    """Ids and tokens of a seeded database (the same in every copy of a template)."""

    company_room_id: int
    admin: BenchUser
    users: list[BenchUser]
    topic_rooms: dict[str, dict[str, Any]] = field(default_factory=dict)
    # 1:1 conversations by key: {"id", "member_ids"} (Shape.conversations_per_branch)
    conversations: dict[str, dict[str, Any]] = field(default_factory=dict)
    history: dict[str, Any] = field(default_factory=dict)
    password: str = PASSWORD

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, raw: str) -> Manifest:
        data = json.loads(raw)
        data["admin"] = BenchUser(**data["admin"])
        data["users"] = [BenchUser(**user) for user in data["users"]]
        return cls(**data)

    def members_of(self, room_id: int) -> set[int]:
        """User ids in a room (company, branch or topic room, or a conversation)."""
        if room_id == self.company_room_id:
            return {self.admin.id, *(u.id for u in self.users)}
        for room in [*self.topic_rooms.values(), *self.conversations.values()]:
            if room["id"] == room_id:
                return set(room["member_ids"])
        members = {u.id for u in self.users if u.branch_room_id == room_id}
        if room_id == self.admin.branch_room_id:
            members.add(self.admin.id)
        return members
