"""Pictures and files (issue 10): uploads typed by their content, stored once by content,
pictures without their metadata, size limits that stop reading, downloads for the room's
members only, and attachments in the POST answer, history pages and stream events."""

from __future__ import annotations

import asyncio
import io
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import ExifTags, Image
from sqlalchemy import event, select

from counterline.services import Services
from counterline.uploads.models import Upload
from counterline.uploads.receiving import clean_name
from tests.cast import CHENGBEI, Cast
from tests.support.clients import Client, open_stream

UPLOADS = "/api/v1/uploads"


# What is uploaded


def png(size: tuple[int, int] = (64, 48), color: tuple[int, int, int] = (20, 120, 200)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, "PNG")
    return buffer.getvalue()


def jpeg_from_a_phone(size: tuple[int, int] = (800, 400)) -> bytes:
    """A JPEG as a phone writes it: GPS position, camera make, and an orientation of 6
    (shown turned 90° clockwise, so it is displayed 400 wide and 800 high)."""
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    exif[ExifTags.Base.Make] = "PhoneCo"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (31.0, 14.0, 0.0)
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, "JPEG", exif=exif)
    return buffer.getvalue()


def office_zip(top: str = "word", macros: bool = False) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        archive.writestr("_rels/.rels", "<Relationships/>")
        archive.writestr(f"{top}/document.xml", "<document/>")
        if macros:
            archive.writestr(f"{top}/vbaProject.bin", b"\x00" * 16)
    return buffer.getvalue()


def plain_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("setup.exe", b"MZ\x90\x00" + b"\x00" * 60)
    return buffer.getvalue()


def ole2(stream_name: str) -> bytes:
    return b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504 + stream_name.encode("utf-16-le")


async def upload(client: Client, name: str, content: bytes, declared: str = "") -> httpx.Response:
    return await client.http.post(
        UPLOADS,
        files={"file": (name, content, declared or "application/octet-stream")},
        headers={"X-CSRF-Token": client.csrf_token},
    )


async def uploaded(client: Client, name: str, content: bytes) -> dict[str, Any]:
    response = await upload(client, name, content)
    assert response.status_code == 201, response.text
    return response.json()


async def post_with(
    client: Client, room_id: int, body: str, client_id: str, attachments: list[int]
) -> httpx.Response:
    return await client.http.post(
        f"/api/v1/rooms/{room_id}/messages",
        json={"body": body, "client_id": client_id, "attachments": attachments},
        headers={"X-CSRF-Token": client.csrf_token},
    )


def stored_blobs(uploads_dir: Path) -> list[Path]:
    """The blob files of the store (not its scratch directory)."""
    return sorted(
        path
        for path in uploads_dir.rglob("*")
        if path.is_file() and path.parent.name != ".incoming"
    )


def scratch_files(uploads_dir: Path) -> list[Path]:
    return sorted((uploads_dir / ".incoming").iterdir())


# Types come from the content


async def test_a_png_named_pdf_is_stored_as_a_png_and_downloads_under_its_own_name(
    login,
) -> None:
    wang = await login("wangfang")
    answer = await upload(wang, "窗口报表.pdf", png((1000, 500)), "application/pdf")
    assert answer.status_code == 201, answer.text
    out = answer.json()
    assert out["content_type"] == "image/png"
    assert out["kind"] == "image"
    assert out["name"] == "窗口报表.pdf"
    assert (out["width"], out["height"]) == (1000, 500)
    assert (out["thumb_width"], out["thumb_height"]) == (400, 200)
    assert out["url"] == f"{UPLOADS}/{out['id']}/content"
    assert out["thumbnail_url"] == f"{UPLOADS}/{out['id']}/thumbnail"

    content = await wang.http.get(out["url"])
    assert content.status_code == 200
    assert content.headers["content-type"] == "image/png"
    assert content.headers["content-disposition"].startswith("attachment;")
    assert (
        "filename*=UTF-8''%E7%AA%97%E5%8F%A3%E6%8A%A5%E8%A1%A8.pdf"
        in (content.headers["content-disposition"])
    )
    assert content.headers["x-content-type-options"] == "nosniff"
    assert content.headers["content-security-policy"] == "default-src 'none'; sandbox"
    assert "immutable" in content.headers["cache-control"]
    assert "private" in content.headers["cache-control"]
    assert Image.open(io.BytesIO(content.content)).size == (1000, 500)
    thumbnail = await wang.http.get(out["thumbnail_url"])
    assert thumbnail.status_code == 200
    assert thumbnail.headers["content-type"] == "image/jpeg"
    assert Image.open(io.BytesIO(thumbnail.content)).size == (400, 200)


REFUSED = {
    "a shell script renamed to .png": ("photo.png", b"#!/bin/sh\nrm -rf /\n"),
    "a batch file renamed to .png": ("photo.png", b"@echo off\r\ndel /q C:\\*\r\n"),
    "an SVG with a script": (
        "logo.svg",
        b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
    ),
    "an SVG with a script, named .txt": (
        "logo.txt",
        b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
    ),
    "an HTML page": ("notice.html", b"<!DOCTYPE html><html><body>hi</body></html>"),
    "an HTML page named .txt": ("notice.txt", b"<html><script>alert(1)</script></html>"),
    "a Windows program": ("manual.pdf", b"MZ\x90\x00\x03" + b"\x00" * 200),
    "an ELF program": ("notes.txt", b"\x7fELF\x02\x01\x01" + b"\x00" * 200),
    "a zip that is no Office document": ("training.docx", plain_zip()),
    "a Word document with macros": ("training.docm", office_zip("word", macros=True)),
    "an OLE2 file that is no Office document (an MSI installer)": (
        "setup.doc",
        ole2("SummaryInformation"),
    ),
    "binary data": ("data.txt", bytes(range(256)) * 4),
    "a picture's magic with garbage after it": ("broken.png", b"\x89PNG\r\n\x1a\n" + b"x" * 99),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
async def test_what_is_not_a_picture_or_training_material_is_refused(
    login, server, case: str
) -> None:
    wang = await login("wangfang")
    name, content = REFUSED[case]
    answer = await upload(wang, name, content, "image/png")
    assert answer.status_code == 415, answer.text
    assert answer.json()["error"]
    uploads_dir = server.settings.effective_uploads_dir
    assert stored_blobs(uploads_dir) == []
    assert scratch_files(uploads_dir) == []


ACCEPTED = {
    "docx": (
        "培训.docx",
        office_zip("word"),
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
    "xlsx": (
        "排班.xlsx",
        office_zip("xl"),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
    "pptx": (
        "slides.pptx",
        office_zip("ppt"),
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ),
    "doc": ("old.doc", ole2("WordDocument"), "application/msword"),
    "xls": ("old.xls", ole2("Workbook"), "application/vnd.ms-excel"),
    "ppt": ("old.ppt", ole2("PowerPoint Document"), "application/vnd.ms-powerpoint"),
    "pdf": ("manual.bin", b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n%%EOF\n", "application/pdf"),
    "utf-8 text": ("须知.txt", "办理社保卡须知\n".encode(), "text/plain; charset=utf-8"),
    "gb18030 text": (
        "旧文件.txt",
        "办理社保卡须知\n".encode("gb18030"),
        "text/plain; charset=gb18030",
    ),
    "csv": ("排班.csv", "姓名,班次\n王芳,早班\n".encode(), "text/csv; charset=utf-8"),
}


@pytest.mark.parametrize("case", sorted(ACCEPTED))
async def test_training_material_is_accepted_with_the_type_of_its_content(login, case: str) -> None:
    wang = await login("wangfang")
    name, content, content_type = ACCEPTED[case]
    out = await uploaded(wang, name, content)
    assert (out["kind"], out["content_type"], out["name"]) == ("file", content_type, name)
    assert out["thumbnail_url"] is None and out["width"] is None
    assert out["size"] == len(content)
    download = await wang.http.get(out["url"])
    assert download.status_code == 200
    assert download.content == content
    assert download.headers["content-type"] == content_type
    assert (await wang.http.get(f"{UPLOADS}/{out['id']}/thumbnail")).status_code == 404


async def test_the_name_is_kept_without_folders_or_control_characters(login) -> None:
    wang = await login("wangfang")
    out = await uploaded(wang, "../../etc/通知.txt", b"hello")
    assert out["name"] == "通知.txt"
    assert clean_name("..\\..\\C:\\temp\\通\x07知\u202e.txt") == "通知.txt"
    assert clean_name("\x00\x1f") == "file"
    long = await uploaded(wang, "长" * 300 + ".txt", b"hello")
    assert len(long["name"]) == 255 and long["name"].endswith(".txt")


# Pictures lose their metadata


async def test_a_phone_picture_is_turned_upright_and_stored_without_gps_or_camera(
    login,
) -> None:
    wang = await login("wangfang")
    original = jpeg_from_a_phone()
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(ExifTags.IFD.GPSInfo)
    out = await uploaded(wang, "IMG_0001.jpg", original)
    assert (out["content_type"], out["width"], out["height"]) == ("image/jpeg", 400, 800)
    assert (out["thumb_width"], out["thumb_height"]) == (200, 400)
    stored = (await wang.http.get(out["url"])).content
    picture = Image.open(io.BytesIO(stored))
    assert picture.size == (400, 800)
    exif = picture.getexif()
    assert dict(exif) == {}
    assert exif.get_ifd(ExifTags.IFD.GPSInfo) == {}
    assert b"PhoneCo" not in stored
    assert "exif" not in picture.info
    thumbnail = (await wang.http.get(out["thumbnail_url"])).content
    assert b"PhoneCo" not in thumbnail
    assert dict(Image.open(io.BytesIO(thumbnail)).getexif()) == {}


async def test_an_animated_gif_keeps_its_frames_and_a_small_picture_is_its_own_thumbnail(
    login,
) -> None:
    wang = await login("wangfang")
    colors = ((255, 0, 0), (0, 255, 0), (0, 0, 255))
    frames = [Image.new("RGB", (40, 30), color).convert("P") for color in colors]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    out = await uploaded(wang, "动图.gif", buffer.getvalue())
    assert (out["content_type"], out["width"], out["height"]) == ("image/gif", 40, 30)
    assert (out["thumb_width"], out["thumb_height"]) == (40, 30)
    stored = Image.open(io.BytesIO((await wang.http.get(out["url"])).content))
    assert stored.n_frames == 3
    thumbnail = await wang.http.get(out["thumbnail_url"])
    assert thumbnail.headers["content-type"] == "image/gif"


async def test_a_picture_with_too_many_pixels_is_refused_before_it_is_decoded(login) -> None:
    wang = await login("wangfang")
    buffer = io.BytesIO()
    Image.new("1", (10_000, 10_000)).save(buffer, "PNG")  # 100 megapixels, a few kB
    answer = await upload(wang, "bomb.png", buffer.getvalue())
    assert answer.status_code == 413, answer.text
    assert "40" in answer.json()["error"]


# Sizes


async def test_an_empty_file_is_refused(login, server) -> None:
    wang = await login("wangfang")
    answer = await upload(wang, "empty.txt", b"")
    assert answer.status_code == 400
    assert answer.json()["error"] == "文件是空的。"  # The file is empty.
    assert scratch_files(server.settings.effective_uploads_dir) == []


async def test_a_request_without_a_file_is_refused(login) -> None:
    wang = await login("wangfang")
    no_file = await wang.http.post(
        UPLOADS,
        data={"other": "x"},
        files={"notes": ("a.txt", b"hi")},
        headers={"X-CSRF-Token": wang.csrf_token},
    )
    assert no_file.status_code == 400, no_file.text
    json_body = await wang.http.post(
        UPLOADS, json={"file": "x"}, headers={"X-CSRF-Token": wang.csrf_token}
    )
    assert json_body.status_code == 415, json_body.text


async def test_an_oversized_file_is_refused_with_the_limit_and_nothing_is_kept(
    start_server, sign_in
) -> None:
    server = start_server(max_upload_bytes=1 << 20)
    wang = await sign_in(server, "wangfang")
    uploads_dir = server.settings.effective_uploads_dir
    exactly = await upload(wang, "exactly.txt", b"a" * (1 << 20))
    assert exactly.status_code == 201, exactly.text
    blobs = stored_blobs(uploads_dir)
    too_big = b"b" * ((1 << 20) + 1)
    declared = await upload(wang, "big.txt", b"b" * (3 << 20))  # refused before reading

    request = httpx.Request("POST", "http://x", files={"file": ("big.txt", too_big)})
    body = request.read()

    async def chunks():  # no Content-Length: refused as the file passes the limit
        for start in range(0, len(body), 1 << 18):
            yield body[start : start + (1 << 18)]

    streamed = await wang.http.post(
        UPLOADS,
        content=chunks(),
        headers={
            "X-CSRF-Token": wang.csrf_token,
            "Content-Type": request.headers["content-type"],
        },
    )
    for answer in (declared, streamed):
        assert answer.status_code == 413, answer.text
        assert answer.json()["error"] == "文件太大：最大 1 MB。"  # at most 1 MB
    assert stored_blobs(uploads_dir) == blobs
    assert scratch_files(uploads_dir) == []


async def test_an_oversized_upload_stops_being_read_once_the_limit_is_passed(
    start_server, sign_in
) -> None:
    """Sent chunked (no Content-Length), 100 MB: the server answers 413 and closes long
    before the client could have sent it all."""
    server = start_server(max_upload_bytes=1 << 20)
    wang = await sign_in(server, "wangfang")
    host, port = server.url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    boundary = "----counterline-test"
    writer.write(
        (
            f"POST {UPLOADS} HTTP/1.1\r\nHost: {host}\r\n"
            f"Cookie: counterline_session={wang.session_cookie}\r\n"
            f"X-CSRF-Token: {wang.csrf_token}\r\n"
            "Accept-Language: zh-CN\r\n"  # as the page's upload sends it
            f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
            "Transfer-Encoding: chunked\r\n\r\n"
        ).encode()
    )
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
        'filename="huge.txt"\r\nContent-Type: text/plain\r\n\r\n'
    ).encode()
    writer.write(b"%x\r\n%s\r\n" % (len(head), head))
    chunk = b"x" * (256 * 1024)
    sent, answer = 0, b""
    try:
        while sent < 100 << 20:
            writer.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            await asyncio.wait_for(writer.drain(), timeout=5)
            sent += len(chunk)
            try:
                answer = await asyncio.wait_for(reader.read(4096), timeout=0.001)
            except TimeoutError:
                continue
            break
    except (ConnectionError, TimeoutError):
        pass
    if not answer:
        answer = await asyncio.wait_for(reader.read(4096), timeout=5)
    writer.close()
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert "最大 1 MB".encode() in answer
    assert sent < 30 << 20, sent
    assert scratch_files(server.settings.effective_uploads_dir) == []


# Storage


async def test_the_same_content_uploaded_twice_is_stored_once(
    login, server, services: Services
) -> None:
    wang = await login("wangfang")
    zhao = await login("zhaomin")
    uploads_dir = server.settings.effective_uploads_dir
    first = await uploaded(wang, "a.txt", "同一份材料".encode())
    second = await uploaded(zhao, "b.txt", "同一份材料".encode())
    picture = png((900, 900))
    third = await uploaded(wang, "p.png", picture)
    fourth = await uploaded(wang, "p-again.png", picture)
    assert len({first["id"], second["id"], third["id"], fourth["id"]}) == 4
    async with services.reading() as unit:
        rows = list(await unit.session.scalars(select(Upload).order_by(Upload.id)))
    assert rows[0].blob_sha256 == rows[1].blob_sha256
    assert rows[2].blob_sha256 == rows[3].blob_sha256
    assert rows[2].thumb_sha256 == rows[3].thumb_sha256 != rows[2].blob_sha256
    blobs = stored_blobs(uploads_dir)
    assert [path.name for path in blobs] == sorted(
        {rows[0].blob_sha256, rows[2].blob_sha256, rows[2].thumb_sha256}
    )
    assert all(path.parent.name == path.name[:2] for path in blobs)
    assert scratch_files(uploads_dir) == []


# Who may download


async def test_an_attached_file_downloads_for_the_rooms_members_only(login, cast: Cast) -> None:
    wang, zhao, li, chen = [
        await login(name) for name in ("wangfang", "zhaomin", "lina", "chengang")
    ]
    room = cast.branch_room_ids[CHENGBEI]
    out = await uploaded(wang, "排班表.pdf", b"%PDF-1.4\n%%EOF\n")
    picture = await uploaded(wang, "柜台.png", png((600, 300)))
    urls = [out["url"], picture["url"], picture["thumbnail_url"]]
    for url in urls:  # before it is posted: the uploader only
        assert (await wang.http.get(url)).status_code == 200
        assert (await zhao.http.get(url)).status_code == 404
    posted = await post_with(wang, room, "本周排班", "attach-room-1", [out["id"], picture["id"]])
    assert posted.status_code == 201, posted.text
    for url in urls:
        member = await zhao.http.get(url)
        assert member.status_code == 200
        assert member.headers["content-disposition"].startswith("attachment;")
        assert member.headers["x-content-type-options"] == "nosniff"
        for outsider in (li, chen):  # another branch; an administrator who is no member
            refused = await outsider.http.get(url)
            assert refused.status_code == 404, (url, refused.text)
            assert refused.json()["error"]
    assert (await zhao.http.get(f"{UPLOADS}/999999/content")).status_code == 404
    anonymous = await httpx.AsyncClient(base_url=str(wang.http.base_url)).get(out["url"])
    assert anonymous.status_code == 401


async def test_a_browser_upload_needs_the_csrf_token(login) -> None:
    wang = await login("wangfang")
    files = {"file": ("a.txt", b"hello")}
    without = await wang.http.post(UPLOADS, files=files)
    assert without.status_code == 403, without.text
    wrong = await wang.http.post(UPLOADS, files=files, headers={"X-CSRF-Token": "nope"})
    assert wrong.status_code == 403
    other_site = await wang.http.post(
        UPLOADS,
        files=files,
        headers={"X-CSRF-Token": wang.csrf_token, "Origin": "https://evil.example"},
    )
    assert other_site.status_code == 403
    assert (await upload(wang, "a.txt", b"hello")).status_code == 201


# Attachments on messages


async def test_attachments_show_in_the_answer_the_history_and_the_stream(
    login, server, cast: Cast
) -> None:
    wang = await login("wangfang")
    zhao = await login("zhaomin")
    room = cast.branch_room_ids[CHENGBEI]
    first = await uploaded(wang, "柜台.png", png((800, 600)))
    second = await uploaded(wang, "须知.txt", "须知".encode())
    stream = await open_stream(server.ws_url, cookie=zhao.session_cookie)
    try:
        await stream.next("ready")
        posted = await post_with(wang, room, "", "attach-show-1", [second["id"], first["id"]])
        assert posted.status_code == 201, posted.text
        message = posted.json()
        assert message["body"] == ""
        assert message["attachments"] == [second, first]
        event = await stream.next("message.posted")
        assert event["message"]["attachments"] == [second, first]
    finally:
        await stream.close()
    plain = await post_with(wang, room, "没有附件", "attach-show-2", [])
    assert plain.json()["attachments"] == []
    history = (await zhao.http.get(f"/api/v1/rooms/{room}/messages")).json()["messages"]
    assert [m["attachments"] for m in history] == [[second, first], []]

    # A stream that resumes after a gap gets them from the database too.
    caught_up = await open_stream(
        server.ws_url, cookie=zhao.session_cookie, last_message_id=message["id"] - 1
    )
    try:
        replayed = await caught_up.next("message.posted")
        assert replayed["message"]["id"] == message["id"]
        assert replayed["message"]["attachments"] == [second, first]
    finally:
        await caught_up.close()


async def test_a_message_needs_text_or_attachments(login, cast: Cast) -> None:
    wang = await login("wangfang")
    empty = await post_with(wang, cast.company_room_id, "  ", "attach-empty-1", [])
    assert empty.status_code == 400
    assert empty.json()["error"] == "消息内容为空。"  # The message is empty.
    too_many = await post_with(wang, cast.company_room_id, "x", "attach-many-1", list(range(1, 12)))
    assert too_many.status_code == 422


async def test_only_your_own_unattached_uploads_can_be_attached(login, cast: Cast) -> None:
    wang = await login("wangfang")
    li = await login("lina")
    room = cast.company_room_id
    mine = await uploaded(wang, "mine.txt", b"mine")
    hers = await uploaded(li, "hers.txt", b"hers")

    theirs = await post_with(wang, room, "x", "attach-own-1", [hers["id"]])
    assert theirs.status_code == 400
    assert theirs.json()["error"] == f"附件 {hers['id']} 不是您上传的文件。"  # not yours
    missing = await post_with(wang, room, "x", "attach-own-2", [999999])
    assert missing.status_code == 400
    twice = await post_with(wang, room, "x", "attach-own-3", [mine["id"], mine["id"]])
    assert twice.status_code == 400
    assert twice.json()["error"] == f"附件 {mine['id']} 重复列出。"  # listed twice

    first = await post_with(wang, room, "第一次", "attach-own-4", [mine["id"]])
    assert first.status_code == 201, first.text
    retry = await post_with(wang, room, "第一次", "attach-own-4", [mine["id"]])
    assert retry.status_code == 200, retry.text
    assert retry.json()["id"] == first.json()["id"]
    assert retry.json()["attachments"] == first.json()["attachments"]
    again = await post_with(wang, room, "第二次", "attach-own-5", [mine["id"]])
    assert again.status_code == 400
    assert again.json()["error"] == f"附件 {mine['id']} 已附在另一条消息上。"  # attached
    other_attachments = await post_with(wang, room, "第一次", "attach-own-4", [])
    assert other_attachments.status_code == 409
    history = (await wang.http.get(f"/api/v1/rooms/{room}/messages")).json()["messages"]
    assert [m["body"] for m in history] == ["第一次"]


@contextmanager
def statements(server) -> Iterator[list[str]]:
    """The SQL statements the live server runs meanwhile (quick reads' included)."""
    services = server.app.state.services
    engines = [services.database.engine.sync_engine]
    seen: list[str] = []

    def record(connection, cursor, statement, *args) -> None:
        seen.append(statement)

    for engine in engines:
        event.listen(engine, "before_cursor_execute", record)
    if services.quick_reads is not None:
        services.quick_reads.statements.listeners.append(seen.append)
    try:
        yield seen
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", record)
        if services.quick_reads is not None:
            services.quick_reads.statements.listeners.remove(seen.append)


def without_identity(seen: list[str]) -> list[str]:
    """The statements but the caller's identity read again when its cache entry expired
    (accounts.cache: after 5 s, which uploading and posting can take on a busy machine)."""
    return [sql for sql in seen if "sessions" not in sql]


def touching_attachments(seen: list[str]) -> list[str]:
    return [sql for sql in seen if "message_attachments" in sql or "uploads" in sql]


async def test_attachments_cost_one_query_per_page_and_none_on_a_plain_post(
    login, server, cast: Cast
) -> None:
    wang = await login("wangfang")
    room = cast.company_room_id
    path = f"/api/v1/rooms/{room}/messages"
    first = await uploaded(wang, "1.txt", b"one")
    await post_with(wang, room, "一", "attach-cost-1", [first["id"]])
    with statements(server) as one_message:
        assert len((await wang.http.get(path)).json()["messages"]) == 1
    for number in range(2, 6):
        upload_ = await uploaded(wang, f"{number}.txt", str(number).encode())
        await post_with(wang, room, str(number), f"attach-cost-{number}", [upload_["id"]])
    with statements(server) as five_messages:
        page = (await wang.http.get(path)).json()["messages"]
    assert [len(message["attachments"]) for message in page] == [1] * 5
    assert len(touching_attachments(one_message)) == len(touching_attachments(five_messages)) == 1
    assert len(without_identity(one_message)) == len(without_identity(five_messages))

    with statements(server) as plain:
        assert (await post_with(wang, room, "无附件", "attach-cost-6", [])).status_code == 201
    assert touching_attachments(plain) == []
    last = await uploaded(wang, "6.txt", b"six")
    with statements(server) as attached:
        posted = await post_with(wang, room, "有附件", "attach-cost-7", [last["id"]])
        assert posted.status_code == 201
    assert len(attached) == len(plain) + 2  # check the uploads, link them
