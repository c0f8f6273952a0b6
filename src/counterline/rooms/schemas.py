from __future__ import annotations

from pydantic import BaseModel, Field

from counterline.rooms.models import Room, RoomKind, Visibility


class RoomOut(BaseModel):
    id: int
    kind: RoomKind
    name: str
    visibility: Visibility
    branch_id: int | None

    @classmethod
    def of(cls, room: Room) -> RoomOut:
        return cls(
            id=room.id,
            kind=room.kind,
            name=room.name,
            visibility=room.visibility,
            branch_id=room.branch_id,
        )


class RoomList(BaseModel):
    rooms: list[RoomOut]
    joinable: list[RoomOut]


class TopicRoomIn(BaseModel):
    # Enforced by rooms.actions.check_room_name (400); stated here.
    name: str = Field(json_schema_extra={"minLength": 1, "maxLength": 100, "pattern": r"\S"})
    visibility: Visibility = Visibility.public


class MemberIn(BaseModel):
    username: str = Field(max_length=64)
