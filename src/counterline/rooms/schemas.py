from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from pydantic import BaseModel, Field

from counterline.ids import Id
from counterline.rooms.models import Room, RoomKind, Visibility

if TYPE_CHECKING:
    from counterline.accounts.models import User


class ConversationMemberOut(BaseModel):
    id: int
    username: str
    display_name: str

    @classmethod
    def of_user(cls, user: User) -> ConversationMemberOut:
        return cls(id=user.id, username=user.username, display_name=user.display_name)

    @classmethod
    def of_row(cls, row: Any) -> ConversationMemberOut:
        return cls(id=row.id, username=row.username, display_name=row.display_name)


class RoomOut(BaseModel):
    id: int
    kind: RoomKind
    name: str = Field(
        description="The room's name; for a 1:1 conversation, the other person's name."
    )
    visibility: Visibility
    branch_id: int | None
    members: list[ConversationMemberOut] | None = Field(
        default=None, description="A conversation's members, you included; null for rooms."
    )
    unread: int = Field(
        default=0,
        description="Messages after your read position (docs/api.md, Read positions); "
        "only in your room list and the room page.",
    )
    last_read_id: int = Field(
        default=0, description="The newest message you have read here; 0 for none."
    )
    muted: bool = Field(
        default=False,
        description="You muted its desktop notifications (PUT /rooms/{id}/mute); only in "
        "your room list.",
    )

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


class ReadIn(BaseModel):
    up_to: Id = Field(description="A message of this room: everything up to it is read.")


class ReadPositionOut(BaseModel):
    room_id: int
    last_read_id: int = Field(description="The newest message read; 0 for none.")
    unread: int = Field(description="How many messages came after it.")


class UnreadSummary(BaseModel):
    rooms: list[ReadPositionOut] = Field(description="Your rooms with unread messages.")
    total: int = Field(description="Unread messages in all of them.")


class TopicRoomIn(BaseModel):
    # Enforced by rooms.actions.check_room_name (400); stated here.
    name: str = Field(json_schema_extra={"minLength": 1, "maxLength": 100, "pattern": r"\S"})
    visibility: Visibility = Visibility.public


class RoomRenameIn(BaseModel):
    # Enforced by rooms.actions.check_room_name (400); stated here.
    name: str = Field(json_schema_extra={"minLength": 1, "maxLength": 100, "pattern": r"\S"})


class MemberIn(BaseModel):
    username: str = Field(max_length=64)


class ConversationIn(BaseModel):
    members: list[Annotated[str, Field(max_length=64)]] = Field(
        description="Usernames of the other people (1 to 19); you are included anyway.",
    )
    name: str | None = Field(
        default=None, max_length=100, description="A group conversation's title (optional)."
    )


class RoomMemberOut(BaseModel):
    id: int
    username: str
    display_name: str
    branch: str = Field(description="The name of the member's branch.")
    online: bool


class RoomMemberList(BaseModel):
    total: int = Field(description="How many active members match (all of them without `q`).")
    members: list[RoomMemberOut] = Field(description="This page, by display name.")
    has_more: bool
