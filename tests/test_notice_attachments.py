"""A notice's pictures and files (notices/attachments.py): uploaded first, listed by the
notice or a revision as `attachment_ids`, shown to its readers in the API and on its page,
and downloaded only by its audience, its author and who oversees it. Each revision keeps its
own list on the record. Over real HTTP against the live server."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from PIL import Image
from sqlalchemy import select

from counterline.notices.models import NoticeAttachment
from counterline.services import Services
from tests.cast import CHENGBEI, Cast
from tests.support.clients import Client

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\n%%EOF\n"
ENGLISH = {"Accept-Language": "en"}


def png(size: tuple[int, int] = (600, 300), color: tuple[int, int, int] = (20, 120, 200)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, "PNG")
    return buffer.getvalue()


async def uploaded(client: Client, name: str, content: bytes) -> dict[str, Any]:
    response = await client.http.post(
        "/api/v1/uploads",
        files={"file": (name, content, "application/octet-stream")},
        headers={"X-CSRF-Token": client.csrf_token},
    )
    assert response.status_code == 201, response.text
    return response.json()


def notice(cast: Cast, attachment_ids: list[int], **more: Any) -> dict[str, Any]:
    """A notice to 城北营业厅 (王芳, a clerk, and 赵敏, its manager)."""
    return {
        "title": "新版受理单",
        "body": "请按**附件**中的新版受理单办理。",
        "audience": {"branch_ids": [cast.branch_ids[CHENGBEI]]},
        "due_at": (datetime.now(UTC) + timedelta(days=7)).isoformat(),
        "attachment_ids": attachment_ids,
        **more,
    }


async def publish(client: Client, body: dict[str, Any], **headers: str) -> httpx.Response:
    return await client.http.post(
        "/api/v1/notices", json=body, headers={"X-CSRF-Token": client.csrf_token, **headers}
    )


async def published(client: Client, body: dict[str, Any]) -> int:
    response = await publish(client, body)
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def revise(
    client: Client, notice_id: int, attachment_ids: list[int], **headers: str
) -> httpx.Response:
    return await client.http.post(
        f"/api/v1/notices/{notice_id}/revisions",
        json={"body": "受理单已更新。", "changes": "换了附件", "attachment_ids": attachment_ids},
        headers={"X-CSRF-Token": client.csrf_token, **headers},
    )


async def status_of(client: Client, url: str) -> int:
    return (await client.http.get(url)).status_code


async def test_a_clerk_in_the_audience_sees_the_picture_and_the_pdf_and_downloads_them(
    login, cast: Cast
) -> None:
    trainer, clerk = await login("zhangwei"), await login("wangfang")
    picture = await uploaded(trainer, "新版受理单.png", png())
    pdf = await uploaded(trainer, "受理规范.pdf", PDF)
    notice_id = await published(trainer, notice(cast, [picture["id"], pdf["id"]]))

    listed = (await clerk.http.get("/api/v1/notices")).json()["notices"]
    assert [[a["id"] for a in n["attachments"]] for n in listed] == [[picture["id"], pdf["id"]]]
    read = (await clerk.http.get(f"/api/v1/notices/{notice_id}")).json()
    shown = read["attachments"]
    assert [(a["name"], a["kind"], a["content_type"]) for a in shown] == [
        ("新版受理单.png", "image", "image/png"),
        ("受理规范.pdf", "file", "application/pdf"),
    ]
    assert shown[0] == picture and shown[1] == pdf  # the shape of a message's attachments
    assert shown[1]["size"] == len(PDF) and shown[1]["thumbnail_url"] is None

    page = await clerk.http.get(f"/notices/{notice_id}")
    assert page.status_code == 200
    assert f'<img src="{picture["thumbnail_url"]}" alt="新版受理单.png"' in page.text
    assert f'href="{pdf["url"]}" download="受理规范.pdf"' in page.text
    assert f'<span class="file-meta">{len(PDF)} B · PDF</span>' in page.text

    content = await clerk.http.get(pdf["url"])
    assert content.status_code == 200 and content.content == PDF
    assert content.headers["content-disposition"].startswith("attachment;")
    assert (await clerk.http.get(picture["url"])).headers["content-type"] == "image/png"
    assert await status_of(clerk, picture["thumbnail_url"]) == 200
    manager, admin = await login("zhaomin"), await login("chengang")  # audience; oversees all
    for reader in (manager, admin):
        assert [await status_of(reader, shown[i]["url"]) for i in (0, 1)] == [200, 200]


async def test_a_clerk_outside_the_audience_cannot_download_a_notices_files(
    login, cast: Cast
) -> None:
    trainer, outsider = await login("zhangwei"), await login("lina")  # 花桥营业厅
    picture = await uploaded(trainer, "受理单.png", png())
    pdf = await uploaded(trainer, "规范.pdf", PDF)
    notice_id = await published(trainer, notice(cast, [picture["id"], pdf["id"]]))
    for url in (picture["url"], picture["thumbnail_url"], pdf["url"]):
        refused = await outsider.http.get(url)
        assert refused.status_code == 404, (url, refused.text)
        assert refused.json()["error"] == "文件不存在，或您无权查看。"
    assert await status_of(outsider, f"/api/v1/notices/{notice_id}") == 404


async def test_someone_elses_upload_is_refused_with_a_clear_error_and_nothing_is_published(
    login, cast: Cast
) -> None:
    trainer, clerk = await login("zhangwei"), await login("wangfang")
    hers = await uploaded(clerk, "她的截图.png", png())
    mine = await uploaded(trainer, "我的.pdf", PDF)
    refused = await publish(trainer, notice(cast, [mine["id"], hers["id"]]))
    assert refused.status_code == 400
    assert refused.json()["error"] == f"附件 {hers['id']} 不是您上传的文件。"  # not yours
    english = await publish(trainer, notice(cast, [hers["id"]]), **ENGLISH)
    assert english.json()["error"] == f"Attachment {hers['id']} is not one of your uploads."
    twice = await publish(trainer, notice(cast, [mine["id"], mine["id"]]), **ENGLISH)
    assert twice.json()["error"] == f"Attachment {mine['id']} is listed twice."
    missing = await publish(trainer, notice(cast, [987654]), **ENGLISH)
    assert missing.json()["error"] == "Attachment 987654 is not one of your uploads."
    eleven = await publish(trainer, notice(cast, [mine["id"]] * 11))
    assert eleven.status_code == 422
    assert (await clerk.http.get("/api/v1/notices")).json()["notices"] == []
    assert await status_of(clerk, mine["url"]) == 404


async def test_an_upload_shows_in_one_place_a_message_or_one_notice(login, cast: Cast) -> None:
    trainer = await login("zhangwei")
    on_notice = await uploaded(trainer, "通知.pdf", PDF)
    on_message = await uploaded(trainer, "聊天.png", png())
    first = await published(trainer, notice(cast, [on_notice["id"]]))
    posted = await trainer.http.post(
        f"/api/v1/rooms/{cast.company_room_id}/messages",
        json={"body": "看图", "client_id": "notice-attach-1", "attachments": [on_message["id"]]},
        headers={"X-CSRF-Token": trainer.csrf_token},
    )
    assert posted.status_code == 201, posted.text
    again = await publish(trainer, notice(cast, [on_notice["id"]]), **ENGLISH)
    assert again.status_code == 400
    assert again.json()["error"] == (
        f"Attachment {on_notice['id']} is already attached to another notice."
    )
    from_room = await revise(trainer, first, [on_message["id"]], **ENGLISH)
    assert from_room.status_code == 400
    assert from_room.json()["error"] == (
        f"Attachment {on_message['id']} is already attached to a message in a room."
    )


async def test_a_revision_with_another_list_keeps_the_earlier_revisions_list_on_the_record(
    login, services: Services, cast: Cast
) -> None:
    trainer, clerk, admin = (
        await login("zhangwei"),
        await login("wangfang"),
        await login("chengang"),
    )
    old_picture = await uploaded(trainer, "旧版.png", png(color=(200, 30, 30)))
    pdf = await uploaded(trainer, "规范.pdf", PDF)
    notice_id = await published(trainer, notice(cast, [old_picture["id"], pdf["id"]]))
    new_picture = await uploaded(admin, "新版.png", png(color=(30, 160, 60)))
    # An administrator revises the trainer's notice: keeps her PDF, adds his own picture.
    revised = await revise(admin, notice_id, [pdf["id"], new_picture["id"]])
    assert revised.status_code == 201, revised.text

    read = (await clerk.http.get(f"/api/v1/notices/{notice_id}")).json()
    assert [a["id"] for a in read["attachments"]] == [pdf["id"], new_picture["id"]]
    async with services.reading() as unit:
        rows = await unit.session.scalars(
            select(NoticeAttachment)
            .where(NoticeAttachment.notice_id == notice_id)
            .order_by(NoticeAttachment.revision, NoticeAttachment.position)
        )
        record = [(row.revision, row.upload_id) for row in rows]
    assert record == [
        (1, old_picture["id"]),
        (1, pdf["id"]),
        (2, pdf["id"]),
        (2, new_picture["id"]),
    ]
    # The audience reads the current revision's; its author and overseers keep the record's.
    assert await status_of(clerk, new_picture["url"]) == 200
    assert await status_of(clerk, old_picture["url"]) == 404
    assert await status_of(admin, old_picture["url"]) == 200
    page = (await clerk.http.get(f"/notices/{notice_id}")).text
    assert new_picture["thumbnail_url"] in page and old_picture["thumbnail_url"] not in page
    # Another of the trainer's uploads, never on this notice, is not the administrator's.
    unshown = await uploaded(trainer, "草稿.pdf", PDF)
    refused = await revise(admin, notice_id, [unshown["id"]], **ENGLISH)
    assert refused.json()["error"] == f"Attachment {unshown['id']} is not one of your uploads."


async def test_the_api_documents_the_attachments_of_a_notice(login) -> None:
    clerk = await login("wangfang")
    schemas = (await clerk.http.get("/api/v1/openapi.json")).json()["components"]["schemas"]
    for name in ("NoticeIn", "RevisionIn"):
        ids = schemas[name]["properties"]["attachment_ids"]
        assert ids["maxItems"] == 10 and ids["description"]
    shown = schemas["NoticeSummary"]["properties"]["attachments"]
    assert shown["items"] == {"$ref": "#/components/schemas/AttachmentOut"}
