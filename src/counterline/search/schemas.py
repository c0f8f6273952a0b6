from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from counterline.messages.schemas import AuthorOut, BranchRef
from counterline.search.models import MAX_TERM_LENGTH


class SearchRoomOut(BaseModel):
    id: int
    name: str = Field(description="As stored: a conversation's is empty or its members' names.")
    kind: Literal["company", "branch", "topic", "conversation"]


class SearchAttachmentOut(BaseModel):
    name: str
    kind: Literal["image", "file"]


class SearchResultOut(BaseModel):
    message_id: int = Field(description="Open it in context: `/rooms/{room.id}?at={message_id}`.")
    room: SearchRoomOut
    author: AuthorOut
    branch: BranchRef = Field(description="The author's branch when the message was posted.")
    created_at: datetime
    snippet_html: str = Field(
        description="About 120 characters of the message's plain text around the first match, "
        "HTML-escaped, each match wrapped in `<mark>`…`</mark>` (and no other markup)."
    )
    attachments: list[SearchAttachmentOut]


class SearchDocumentOut(BaseModel):
    kind: str = Field(description="`notice` or `faq` (an FAQ entry).")
    id: int
    title: str
    url: str = Field(description="Where it opens: `/notices/{id}`, `/faq/{id}`.")
    snippet_html: str = Field(
        description="As a result's: its plain text around the first match, HTML-escaped, "
        "matches wrapped in `<mark>`…`</mark>`."
    )


class SearchPage(BaseModel):
    results: list[SearchResultOut]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null when there is none."
    )
    terms: list[str] = Field(description="The words searched for (what the snippets mark).")
    documents: list[SearchDocumentOut] | None = Field(
        default=None,
        description="First page only (no `cursor`): the notices and FAQ entries you may open "
        "that have every word, best match first, at most 5 of each kind; empty when the "
        "query has filters (they are about messages). Null on the following pages.",
    )


class SearchTermIn(BaseModel):
    term: str = Field(
        min_length=1,
        max_length=MAX_TERM_LENGTH,
        description="A business term to keep whole when segmenting Chinese (e.g. 不动产登记).",
    )


class SearchTermOut(BaseModel):
    id: int
    term: str
    created_by: str = Field(description="The username of who added it.")
    created_at: datetime


class SearchTermList(BaseModel):
    terms: list[SearchTermOut] = Field(description="In the order of the terms.")
