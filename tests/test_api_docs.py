"""The API reference page at /api/v1/docs, rendered on the server from app.openapi()."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

import httpx


class Anchors(HTMLParser):
    """Collects element ids, in-page links and script tags of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.fragments: set[str] = set()
        self.scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if values.get("id"):
            self.ids.add(values["id"] or "")
        href = values.get("href") or ""
        if href.startswith("#") and len(href) > 1:
            self.fragments.add(href[1:])
        if tag == "script":
            self.scripts += 1


async def docs_page(server) -> httpx.Response:
    async with httpx.AsyncClient(base_url=server.url) as http:
        return await http.get("/api/v1/docs", headers={"Accept-Language": "en"})


async def test_api_reference_lists_every_operation_of_the_openapi_document(server) -> None:
    response = await docs_page(server)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    document = server.app.openapi()
    for path, item in document["paths"].items():
        for method in ("get", "post", "put", "patch", "delete"):
            if method in item:
                assert re.search(
                    rf">{method.upper()}</span>\s*<code class=\"path\">{re.escape(path)}</code>",
                    page,
                ), f"{method.upper()} {path} is missing"
                assert item[method]["summary"] in page
    assert "/api/v1/rooms/{room_id}/messages" in page
    assert "/api/v1/session" in page
    assert "/api/v1/stream" in page


async def test_api_reference_shows_parameters_descriptions_and_schema_names(server) -> None:
    page = (await docs_page(server)).text
    messages = page[page.index('id="post-api-v1-rooms-room-id-messages"') :]
    messages = messages[: messages.index("</article>")]
    assert "safe to retry with the same client_id" in messages
    assert 'href="#schema-MessageIn"' in messages
    assert 'href="#schema-MessageOut"' in messages
    assert "<code>room_id</code>" in messages

    history = page[page.index('id="get-api-v1-rooms-room-id-messages"') :]
    history = history[: history.index("</article>")]
    for parameter in ("before", "after", "day", "limit"):
        assert f"<code>{parameter}</code>" in history
    assert "Newest messages older than this id." in history
    assert 'href="#schema-MessagePage"' in history

    schema = page[page.index('id="schema-MessageOut"') :]
    schema = schema[: schema.index("</article>")]
    assert "<code>client_ip</code>" in schema
    assert "Only shown to managers and administrators." in schema


async def test_every_operation_has_a_curl_example_with_a_token_and_its_required_body(
    server,
) -> None:
    page = (await docs_page(server)).text
    document = server.app.openapi()
    operations = [
        (m, p) for p, item in document["paths"].items() for m in item if m != "parameters"
    ]
    assert page.count('<pre class="curl"><code>curl') == len(operations)
    post = page[page.index('id="post-api-v1-rooms-room-id-messages"') :]
    post = html.unescape(post[: post.index("</article>")])
    assert (
        "curl -X POST -H \"Authorization: Bearer $TOKEN\" -H 'Content-Type: application/json' "
        '-d \'{"body": "…", "client_id": "6b1e0f0a-3c9d-4f6e-9a51-1d2c3b4a5e6f"}\' '
        '"$CL/api/v1/rooms/1/messages"'
    ) in post
    history = page[page.index('id="get-api-v1-rooms-room-id-messages"') :]
    assert 'curl -H "Authorization: Bearer $TOKEN" "$CL/api/v1/rooms/1/messages"' in html.unescape(
        history[: history.index("</article>")]
    )
    login = page[page.index('id="post-api-v1-session"') :]
    assert "Bearer" not in login[: login.index("</article>")]


async def test_api_reference_links_resolve_and_it_runs_no_scripts(server) -> None:
    response = await docs_page(server)
    parsed = Anchors()
    parsed.feed(response.text)
    assert parsed.scripts == 0
    assert parsed.fragments - parsed.ids == set()
    assert "script-src 'self'" in response.headers["content-security-policy"]


async def test_api_reference_is_linked_from_the_login_page(server) -> None:
    async with httpx.AsyncClient(base_url=server.url) as http:
        login = await http.get("/login")
    assert 'href="/api/v1/docs"' in login.text


async def test_api_reference_does_not_list_itself_or_the_html_pages(server) -> None:
    paths = server.app.openapi()["paths"]
    assert "/api/v1/docs" not in paths
    assert not any(path in paths for path in ("/login", "/", "/rooms/{room_id}"))
