"""Message text to HTML: what a clerk typed is what everyone reads, the Markdown subset formats,
and nothing hostile survives. The real pipeline (markdown-it-py, linkify-it-py, nh3)."""

from __future__ import annotations

import gc
import time

import httpx
import pytest

from counterline.messages.rendering import COLOURS, render_body, sanitise
from counterline.messages.schemas import MAX_BODY_LENGTH
from tests.cast import Cast
from tests.support.render_corpus import (
    BIDI_CONTROLS,
    FAITHFUL,
    HOSTILE,
    Rendered,
    outside_the_allow_list,
)


def elements(text: str) -> list[tuple[str, dict[str, str | None]]]:
    return Rendered(render_body(text)).elements


def tags(text: str) -> list[str]:
    return Rendered(render_body(text)).tags()


def shown(text: str) -> str:
    return Rendered(render_body(text)).visible_text()


@pytest.mark.parametrize("text", FAITHFUL)
def test_codes_numbers_paths_and_addresses_read_exactly_as_typed(text: str) -> None:
    assert shown(text) == text


def test_the_corpora_are_big_enough_and_free_of_repeats() -> None:
    assert len(FAITHFUL) >= 60 and len(set(FAITHFUL)) == len(FAITHFUL)
    assert len(HOSTILE) >= 100 and len(set(HOSTILE)) == len(HOSTILE)


# Formatting


def test_bold_italic_and_strikethrough() -> None:
    assert render_body("**粗** *斜* ~~删~~ __粗__ _斜_") == (
        "<p><strong>粗</strong> <em>斜</em> <s>删</s> <strong>粗</strong> <em>斜</em></p>"
    )


@pytest.mark.parametrize(
    ("text", "html"),
    [
        ("请**务必**核对", "<p>请<strong>务必</strong>核对</p>"),
        ("*重要*", "<p><em>重要</em></p>"),
        ("**注意** 新规", "<p><strong>注意</strong> 新规</p>"),
        ("新规，**注意**：明天起", "<p>新规，<strong>注意</strong>：明天起</p>"),
        ("（**注意**）", "<p>（<strong>注意</strong>）</p>"),
        ("**“务必”**核对", "<p><strong>“务必”</strong>核对</p>"),
        ("编码**B1E-0D7**作废", "<p>编码<strong>B1E-0D7</strong>作废</p>"),
        ("see **this**.", "<p>see <strong>this</strong>.</p>"),
    ],
)
def test_emphasis_works_between_chinese_characters_and_at_word_edges(text: str, html: str) -> None:
    assert render_body(text) == html


@pytest.mark.parametrize("text", ["B1E*0D7*X", "2*3*4", "AB_CD_EF", "D:\\*\\*.xlsx", "**3**.5"])
def test_delimiters_inside_codes_never_start_emphasis(text: str) -> None:
    assert render_body(text) == f"<p>{text}</p>"


def test_a_bullet_list_is_a_list() -> None:
    assert tags("- 身份证\n- 户口本\n- 照片") == ["ul", "li", "li", "li"]


def test_ordered_list_markers_stay_as_typed_text() -> None:
    html = render_body("1. 登记\n2. 开收据\n007. 号窗口")
    assert html == "<p>1. 登记<br>\n2. 开收据<br>\n007. 号窗口</p>"


def test_a_quote_needs_a_space_after_the_marker() -> None:
    assert tags("> 客户说：\n> 明天再来") == ["blockquote", "p", "br"]
    assert tags(">100元") == ["p"]


def test_inline_code_and_code_blocks_keep_their_characters() -> None:
    assert render_body("`\\\\srv\\a_b*c*`") == "<p><code>\\\\srv\\a_b*c*</code></p>"
    assert render_body("```sql\nselect *\n  from t;\n```") == (
        "<pre><code>select *\n  from t;\n</code></pre>"
    )


def test_a_table_has_its_cells() -> None:
    assert tags("| 套餐 | 价格 |\n|---|--:|\n| A | 58 |") == [
        *("table", "thead", "tr", "th", "th"),
        *("tbody", "tr", "td", "td"),
    ]
    assert "style" not in render_body("| a |\n|:-:|\n| b |")


def test_line_breaks_are_kept() -> None:
    assert render_body("第一行\n第二行") == "<p>第一行<br>\n第二行</p>"


@pytest.mark.parametrize(
    "text",
    ["# 标题", "## 标题", "---", "标题\n===", "![图](https://example.com/a.png)", "<b>x</b>"],
)
def test_headings_rules_images_and_html_stay_literal(text: str) -> None:
    assert shown(text) == text
    assert set(tags(text)) <= {"p", "br", "a"}


# Colours


@pytest.mark.parametrize("name", COLOURS)
def test_each_palette_colour_is_a_class(name: str) -> None:
    assert (
        render_body(f"{{{name}}}提示{{/{name}}}") == f'<p><span class="tc-{name}">提示</span></p>'
    )


def test_colours_nest_with_each_other_and_with_formatting() -> None:
    assert render_body("{red}红 **粗{blue}蓝{/blue}**{/red}") == (
        '<p><span class="tc-red">红 <strong>粗<span class="tc-blue">蓝</span></strong></span></p>'
    )
    assert render_body("**{green}绿{/green}**") == (
        '<p><strong><span class="tc-green">绿</span></strong></p>'
    )


@pytest.mark.parametrize(
    "text", ["{pink}粉{/pink}", "{Red}红{/Red}", "{red }红{/red }", "{red}未闭合", "{red}{/red}"]
)
def test_anything_but_an_exact_closed_palette_colour_stays_literal(text: str) -> None:
    assert render_body(text) == f"<p>{text}</p>"


# Links and paths

LINK = 'target="_blank" rel="noopener noreferrer nofollow"'


@pytest.mark.parametrize(
    ("text", "href"),
    [
        ("https://oa.example.com.cn/a", "https://oa.example.com.cn/a"),
        ("http://crm.intra:8080/order?id=1&type=B", "http://crm.intra:8080/order?id=1&amp;type=B"),
        ("http://10.1.2.3:8080/path", "http://10.1.2.3:8080/path"),
        ("oa.company.local", "http://oa.company.local"),
        ("crm.intra:8080/x", "http://crm.intra:8080/x"),
        ("nas.lan", "http://nas.lan"),
        ("erp.corp", "http://erp.corp"),
        ("kb.internal", "http://kb.internal"),
        ("router.home", "http://router.home"),
        ("help@company.com", "mailto:help@company.com"),
    ],
)
def test_addresses_become_links_that_open_apart(text: str, href: str) -> None:
    assert render_body(text) == f'<p><a href="{href}" {LINK}>{text.replace("&", "&amp;")}</a></p>'


def test_a_link_in_a_sentence_ends_where_the_address_ends() -> None:
    assert render_body("详见https://oa.example.com/a，谢谢") == (
        f'<p>详见<a href="https://oa.example.com/a" {LINK}>https://oa.example.com/a</a>，谢谢</p>'
    )


def test_a_markdown_link_keeps_its_text() -> None:
    assert render_body("[操作手册](https://oa.example.com/guide)") == (
        f'<p><a href="https://oa.example.com/guide" {LINK}>操作手册</a></p>'
    )


@pytest.mark.parametrize(
    "target",
    [
        "javascript:alert(1)",
        "data:text/html,x",
        "vbscript:x",
        "file:///etc/passwd",
        "/api/v1",
        "//x",
    ],
)
def test_a_markdown_link_to_anything_but_http_https_or_mailto_stays_text(target: str) -> None:
    text = f"[点我]({target})"
    assert "<a" not in render_body(text)
    assert shown(text) == text


@pytest.mark.parametrize(
    ("text", "path"),
    [
        ("\\\\fileserver\\client\\setup.exe", "\\\\fileserver\\client\\setup.exe"),
        ("\\\\oa.company.local\\公告\\a.docx", "\\\\oa.company.local\\公告\\a.docx"),
        ("价格表在\\\\10.2.3.4\\共享\\价格表.xlsx，请下载", "\\\\10.2.3.4\\共享\\价格表.xlsx"),
        ("放到 \\\\fs\\client\\ 下", "\\\\fs\\client\\"),
        ("file:///C:/Program%20Files/x", "file:///C:/Program%20Files/x"),
        ("见file://fs/share/a.txt。", "file://fs/share/a.txt"),
    ],
)
def test_unc_paths_and_file_urls_are_shown_exactly_in_a_unc_span(text: str, path: str) -> None:
    html = render_body(text)
    assert f'<span class="unc">{path}</span>' in html
    assert "<a" not in html
    assert shown(text) == text


# Hostile text


@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_text_renders_quickly_within_the_allow_list(text: str) -> None:
    assert len(text) <= MAX_BODY_LENGTH
    # This thread's CPU time, not the clock, with the cyclic collector held off: neither a
    # loaded machine nor a full collection of what earlier tests left in this worker may fail
    # it, while a rendering that backtracks (seconds of CPU on such text) still does.
    gc.disable()
    try:
        started = time.thread_time()
        html = render_body(text)
        spent = time.thread_time() - started
    finally:
        gc.enable()
    assert spent < 1
    assert outside_the_allow_list(html) == []
    assert "<script" not in html.lower()


@pytest.mark.parametrize("html", HOSTILE, ids=range(len(HOSTILE)))
def test_the_sanitiser_alone_keeps_raw_hostile_html_within_the_allow_list(html: str) -> None:
    """Should the Markdown step ever pass HTML through, the sanitiser still holds."""
    assert outside_the_allow_list(sanitise(html)) == []
    assert outside_the_allow_list(sanitise(f'<span class="tc-red x" style="x">{html}</span>')) == []


def test_markup_is_shown_as_text() -> None:
    assert (
        render_body("<script>alert(1)</script>") == "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>"
    )
    assert shown('<img src=x onerror="alert(1)">') == '<img src=x onerror="alert(1)">'


def test_text_direction_controls_are_removed() -> None:
    assert render_body("invoice\u202efdp.exe") == "<p>invoicefdp.exe</p>"
    html = render_body("".join(f"{control}x" for control in BIDI_CONTROLS))
    assert not set(BIDI_CONTROLS) & set(html)


# The composer's preview


async def test_the_preview_answers_the_html_posting_would_store(login, cast: Cast) -> None:
    wang = await login("wangfang")
    text = "请**务必**核对 {red}B1E*0D7*X{/red}\r\n\\\\fs\\共享\\价格表.xlsx"

    async def preview(body: str) -> httpx.Response:
        return await wang.http.post(
            "/api/v1/messages/preview",
            json={"body": body},
            headers={"X-CSRF-Token": wang.csrf_token},
        )

    answer = await preview(text)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"html": render_body(text.replace("\r\n", "\n"))}
    posted = await wang.post_message(cast.company_room_id, text, "preview-0001")
    assert posted.json()["body_html"] == answer.json()["html"]
    for refused in (" \n ", "x" * (MAX_BODY_LENGTH + 1)):
        answer = await preview(refused)
        assert answer.status_code == 400 and answer.json()["error"], answer.text
