"""Translations: the shipped catalogs are complete and current, and every page and API error
speaks the language picked by the user's setting, the language cookie, Accept-Language or
the server's default, in that order."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import httpx
import jinja2
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from counterline import i18n
from counterline.i18n import LOCALE_DIR
from counterline.web import templating
from tests.cast import PASSWORD, Cast
from tests.support.pages import csrf_token_in

ROOT = Path(__file__).resolve().parent.parent
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")
ZH_LOGIN = "登录"
EN_LOGIN = "Log in"
ZH_CATALOG = LOCALE_DIR / "zh_CN" / "LC_MESSAGES" / "messages.po"


def read_catalog(path: Path) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle)


def texts(value: str | tuple[str, ...] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    return value if isinstance(value, tuple) else (value,)


def placeholders(value: str | tuple[str, ...] | None) -> set[str]:
    return {name for text in texts(value) for name in PLACEHOLDER.findall(text)}


def translated_msgids() -> set[str]:
    """Singular msgids of the zh_CN catalog whose every msgstr form is filled in."""
    catalog = read_catalog(ZH_CATALOG)
    return {
        texts(message.id)[0]
        for message in catalog
        if message.id and not message.fuzzy and texts(message.string) and all(texts(message.string))
    }


def extract(mapping: str, keywords: dict[str, Any]) -> Catalog:
    """Run babel's extraction over the repository, like `pybabel extract`, into a Catalog."""
    method_map, options_map = parse_mapping_cfg(io.StringIO(mapping))
    catalog = Catalog()
    found = extract_from_dir(str(ROOT), method_map, options_map, keywords=keywords)
    for filename, lineno, message, _comments, context in found:
        catalog.add(message, None, [(filename, lineno)], context=context)
    return catalog


def msgids(catalog: Catalog) -> set[str | tuple[str, ...]]:
    return {message.id for message in catalog if message.id}


async def login_page(base_url: str, **headers: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=base_url, headers=headers) as http:
        response = await http.get("/login")
    assert response.status_code == 200
    return response


def html_lang(page: httpx.Response) -> str:
    found = re.search(r'<html lang="([^"]+)"', page.text)
    assert found, page.text[:200]
    return found.group(1)


def boot_strings(page: httpx.Response) -> dict[str, str]:
    found = re.search(r'<script type="application/json" id="boot">(.*?)</script>', page.text, re.S)
    assert found, page.text[:500]
    return json.loads(found.group(1))["strings"]


async def wrong_password(base_url: str, **headers: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=base_url, headers=headers) as http:
        response = await http.post(
            "/api/v1/session", json={"username": "wangfang", "password": "not-the-password"}
        )
    assert response.status_code == 401, response.text
    return response


# The catalogs


def test_every_zh_cn_catalog_entry_is_translated_with_the_same_placeholders() -> None:
    catalog = read_catalog(ZH_CATALOG)
    entries = [message for message in catalog if message.id]
    assert len(entries) > 50
    for message in entries:
        assert not message.fuzzy, message.id
        assert texts(message.string) and all(texts(message.string)), message.id
        values = {name: "x" for name in placeholders(message.id)}
        for text in texts(message.string):
            assert placeholders(text) == placeholders(message.id), (message.id, text)
            assert "%(" not in text % values, (message.id, text)


def test_english_catalog_lists_the_same_msgids_and_leaves_them_as_they_are() -> None:
    english = read_catalog(LOCALE_DIR / "en" / "LC_MESSAGES" / "messages.po")
    chinese = read_catalog(ZH_CATALOG)
    assert msgids(english) == msgids(chinese)
    assert all(not any(texts(message.string)) for message in english if message.id)


def test_checked_in_template_matches_a_fresh_extraction_of_the_sources() -> None:
    mapping = (ROOT / "babel.cfg").read_text()
    fresh = extract(mapping, {**DEFAULT_KEYWORDS, "N_": None})
    shipped = read_catalog(LOCALE_DIR / "messages.pot")
    assert msgids(fresh) == msgids(shipped), "run ./scripts/i18n and translate the new entries"
    assert msgids(read_catalog(ZH_CATALOG)) == msgids(shipped)


def test_every_error_marked_with_n_underscore_in_the_sources_has_a_translation() -> None:
    marked = msgids(extract("[python: src/counterline/**.py]\n", {"N_": None}))
    assert "Wrong username or password." in marked
    assert {texts(msgid)[0] for msgid in marked} <= translated_msgids()


def test_every_string_sent_to_the_browser_scripts_has_a_translation() -> None:
    mapping = "[python: src/counterline/web/client_strings.py]\n"
    client = msgids(extract(mapping, DEFAULT_KEYWORDS))
    assert "Connection lost. Reconnecting…" in client
    assert {texts(msgid)[0] for msgid in client} <= translated_msgids()


# Pages and API errors on a live server


async def test_login_page_is_chinese_for_a_browser_that_states_no_language(server) -> None:
    page = await login_page(server.url)
    assert html_lang(page) == "zh-CN"
    assert ZH_LOGIN in page.text
    assert "用户名" in page.text
    assert "窗口业务交流平台" in page.text
    assert EN_LOGIN not in page.text


async def test_login_page_is_chinese_for_a_chinese_browser(server) -> None:
    page = await login_page(server.url, **{"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"})
    assert html_lang(page) == "zh-CN"
    assert ZH_LOGIN in page.text


async def test_login_page_is_english_for_an_english_browser(server) -> None:
    page = await login_page(server.url, **{"Accept-Language": "en-US,en;q=0.9"})
    assert html_lang(page) == "en"
    assert EN_LOGIN in page.text
    assert "Username" in page.text
    assert ZH_LOGIN not in page.text


async def test_language_switch_sets_a_cookie_that_beats_the_browser_language(server) -> None:
    async with httpx.AsyncClient(base_url=server.url, headers={"Accept-Language": "zh-CN"}) as http:
        switched = await http.post("/account/language", data={"language": "en", "next": "/login"})
        assert switched.status_code == 303
        assert switched.headers["location"] == "/login"
        assert http.cookies.get("counterline_lang") == "en"
        english = await http.get("/login")
        assert html_lang(english) == "en"
        assert EN_LOGIN in english.text

        await http.post("/account/language", data={"language": "zh_CN", "next": "/login"})
        chinese = await http.get("/login")
        assert html_lang(chinese) == "zh-CN"
        assert ZH_LOGIN in chinese.text


async def test_language_switch_refuses_a_language_that_is_not_shipped(server) -> None:
    async with httpx.AsyncClient(base_url=server.url) as http:
        response = await http.post("/account/language", data={"language": "fr"})
    assert response.status_code == 400
    assert "不支持的语言。" in response.text
    assert "counterline_lang" not in response.headers.get("set-cookie", "")


async def test_a_users_own_language_setting_beats_the_browser_language(
    server, login, cast: Cast
) -> None:
    clerk = await login("wangfang")
    room = f"/rooms/{cast.company_room_id}"
    chinese = await clerk.http.get(room, headers={"Accept-Language": "zh-CN"})
    assert html_lang(chinese) == "zh-CN"
    assert boot_strings(chinese)["reconnecting"] == "连接中断，正在重连…"

    switched = await clerk.http.post(
        "/account/language",
        data={"language": "en", "next": room, "csrf_token": csrf_token_in(chinese)},
    )
    assert switched.status_code == 303
    clerk.http.cookies.delete("counterline_lang")

    english = await clerk.http.get(room, headers={"Accept-Language": "zh-CN"})
    assert html_lang(english) == "en"
    assert boot_strings(english)["reconnecting"] == "Connection lost. Reconnecting…"
    assert "Log out" in english.text

    async with httpx.AsyncClient(
        base_url=server.url, headers={"Accept-Language": "zh-CN"}
    ) as other_browser:
        signed_in = await other_browser.post(
            "/api/v1/session", json={"username": "wangfang", "password": PASSWORD}
        )
        assert signed_in.status_code == 200
        page = await other_browser.get(room)
        assert html_lang(page) == "en"
        # The API answers in the language the request asks for, not the user's setting.
        missing = await other_browser.get("/api/v1/rooms/999999/messages")
        assert missing.json()["error"] == "房间不存在，或您不是该房间的成员。"


async def test_language_switch_of_a_logged_in_user_needs_the_form_token(login, cast: Cast) -> None:
    clerk = await login("wangfang")
    refused = await clerk.http.post(
        "/account/language", data={"language": "en", "csrf_token": "forged"}
    )
    assert refused.status_code == 403
    page = await clerk.http.get(f"/rooms/{cast.company_room_id}")
    assert html_lang(page) == "zh-CN"


async def test_api_errors_are_english_without_accept_language_and_chinese_when_asked(
    server,
) -> None:
    english = await wrong_password(server.url)
    assert english.json() == {"error": "Wrong username or password."}
    chinese = await wrong_password(server.url, **{"Accept-Language": "zh-CN"})
    assert chinese.json() == {"error": "用户名或密码错误。"}


async def test_error_messages_keep_their_values_in_the_translation(login, cast: Cast) -> None:
    clerk = await login("wangfang")
    too_long = await clerk.post_message(cast.company_room_id, "长" * 10_001, "i18n-too-long")
    assert too_long.status_code == 400, too_long.text
    assert too_long.json() == {"error": "消息过长：10001 个字符，最多 10000 个。"}


async def test_server_default_language_english_serves_english_to_unspecified_browsers(
    start_server,
) -> None:
    live = start_server(default_language="en")
    page = await login_page(live.url)
    assert html_lang(page) == "en"
    assert EN_LOGIN in page.text
    assert ZH_LOGIN not in page.text
    error = await wrong_password(live.url)
    assert error.json() == {"error": "Wrong username or password."}
    chinese = await login_page(live.url, **{"Accept-Language": "zh-CN"})
    assert html_lang(chinese) == "zh-CN"
    assert ZH_LOGIN in chinese.text


def test_templates_translate_as_jinja2s_own_newstyle_gettext_does() -> None:
    source = (
        "{{ _('Log in') }}|{{ gettext('Log in') }}|{{ _('100%% sure') }}|{{ _('Hi %(n)s', n=who) }}"
        "|{% trans %}Log in{% endtrans %}|{% trans n=who %}Hi {{ n }}{% endtrans %}"
        "|{{ nothing or _('Log in') }}|{% set label = _('Log in') %}{{ label ~ who }}"
        "|{{ _('Log in') | upper }}"
        "|{% autoescape false %}{{ _('Log in') ~ who }}{% endautoescape %}"
        "|<a title=\"{{ _('Log in') }}\">{{ x._('Log in') }}</a>"
    )
    reference = jinja2.Environment(autoescape=True, extensions=["jinja2.ext.i18n"])
    reference.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=i18n.gettext, ngettext=i18n.ngettext, newstyle=True
    )
    for language, login in (("zh_CN", ZH_LOGIN), ("en", EN_LOGIN)):
        token = i18n.current_language.set(language)
        try:
            ours = templating.environment_for(language).from_string(source)
            x = {"_": lambda message: message.upper()}
            shown = ours.render(who="<b>", x=x)
            assert shown == reference.from_string(source).render(who="<b>", x=x)
            shown = shown.split("|")
            assert shown[:3] == [login, login, "100% sure"]
            assert shown[3] == shown[5] and "&lt;b&gt;" in shown[3]
            assert shown[7] == f"{login}&lt;b&gt;" and shown[9] == f"{login}<b>"
            assert shown[10] == f'<a title="{login}">LOG IN</a>'
        finally:
            i18n.current_language.reset(token)


def test_templates_hold_their_fixed_messages_as_text_in_their_own_language() -> None:
    """``_("literal")`` is compiled into each language's template as its translation."""
    source = "{{ _('Log in') }}"
    for language, login in (("zh_CN", ZH_LOGIN), ("en", EN_LOGIN)):
        compiled = templating.environment_for(language).compile(source, raw=True)
        assert login in compiled
        assert "gettext" not in compiled and "'_'" not in compiled
