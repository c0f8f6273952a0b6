"""The search box's language (search.syntax) and the terms a text is indexed and looked up
under (segmenter): read without a database."""

from __future__ import annotations

from datetime import date

import pytest

from counterline.errors import UserError
from counterline.search.actions import snippet_html
from counterline.search.queries import tsquery_value
from counterline.search.syntax import ParsedQuery, parse
from counterline.segmenter import index_terms, query_terms, query_words


def test_free_words_and_phrases_are_kept_apart_from_filters() -> None:
    assert parse('不动产登记 B1E-0D7 "工作日内 办结"') == ParsedQuery(
        words=("不动产登记", "B1E-0D7"), phrases=("工作日内 办结",)
    )


def test_every_filter_is_read() -> None:
    parsed = parse(
        "窗口 from:wangfang branch:花桥 in:综合窗口 after:2026-01-01 before:2026-02-01 "
        "has:picture mentions:me"
    )
    assert parsed == ParsedQuery(
        words=("窗口",),
        authors=("wangfang",),
        branches=("花桥",),
        rooms=("综合窗口",),
        after=date(2026, 1, 1),
        before=date(2026, 2, 1),
        has=frozenset({"picture"}),
        mentions_me=True,
    )


def test_what_a_chinese_keyboard_types_works_as_its_ascii_form() -> None:
    assert parse("from：王芳 “登记 受理”") == ParsedQuery(authors=("王芳",), phrases=("登记 受理",))


def test_a_quoted_value_may_hold_spaces_and_keys_ignore_case() -> None:
    assert parse('IN:"花桥 分局" From:me HAS:File') == ParsedQuery(
        authors=("me",), rooms=("花桥 分局",), has=frozenset({"file"})
    )


def test_a_colon_that_is_no_filter_is_part_of_a_word() -> None:
    assert parse("http://intranet/a 10:30").words == ("http://intranet/a", "10:30")


def test_repeated_day_filters_keep_the_narrowest_range() -> None:
    parsed = parse("after:2026-01-01 after:2026-01-15 before:2026-03-01 before:2026-02-01")
    assert (parsed.after, parsed.before) == (date(2026, 1, 15), date(2026, 2, 1))


def test_an_unclosed_quote_runs_to_the_end() -> None:
    assert parse('窗口 "排队 较长').phrases == ("排队 较长",)


@pytest.mark.parametrize(
    ("query", "says"),
    [
        ("after:2026-13-01", "after:YYYY-MM-DD"),
        ("after:2026-02-30", "after:YYYY-MM-DD"),
        ("before:20260101", "before:YYYY-MM-DD"),
        ("before:昨天", "before:YYYY-MM-DD"),
        ("after:1969-12-31", "1970-01-01"),
        ("has:video", "has:picture"),
        ("mentions:lina", "mentions:me"),
        ("from:", "from:me"),
        ('in:""', "in:"),
    ],
)
def test_a_filter_that_cannot_be_read_says_how_to_write_it(query: str, says: str) -> None:
    with pytest.raises(UserError) as refused:
        parse(query)
    assert says in refused.value.translated()
    assert refused.value.status_code == 400


def test_chinese_is_indexed_by_characters_pairs_and_long_words() -> None:
    terms = index_terms("办理不动产登记")
    assert {"办", "理", "不", "动", "产", "登", "记"} <= set(terms)
    assert {"办理", "理不", "不动", "动产", "产登", "登记"} <= set(terms)
    assert "不动产" in terms
    assert len(terms) == len(set(terms))


def test_a_code_is_indexed_whole_and_by_its_parts_in_lower_case() -> None:
    terms = set(index_terms("B1E-0D7号窗口 v2.3"))
    assert {"b1e-0d7", "b1e", "0d7", "v2.3", "v2", "3", "号", "号窗", "窗口"} <= terms
    assert "b1e-0d8" not in index_terms("B1E-0D7")


def test_a_query_word_needs_its_pairs_and_is_checked_when_they_do_not_prove_it() -> None:
    (one, two, three) = query_words("证 排队 不动产")
    assert (one.terms, one.exact) == (("证",), True)
    assert (two.terms, two.exact) == (("排队",), True)
    assert (three.terms, three.exact) == (("不动", "动产"), False)
    assert query_terms("B1E-0D7打印机") == ["b1e-0d7", "打印", "印机"]


def test_a_snippet_escapes_the_text_and_marks_only_the_matches() -> None:
    assert snippet_html("<i>窗口</i> & 窗口", ["窗口"]) == (
        "&lt;i&gt;<mark>窗口</mark>&lt;/i&gt; &amp; <mark>窗口</mark>"
    )
    assert snippet_html("Printer B1E-0D7 jam", ["b1e-0d7"]) == "Printer <mark>B1E-0D7</mark> jam"
    assert snippet_html("ＢＩＧ sale", ["big"]) == "<mark>ＢＩＧ</mark> sale"


def test_a_long_word_may_be_found_by_its_own_term_or_by_all_its_pairs() -> None:
    # PostgreSQL then estimates the word by its own frequency (queries.tsquery_value).
    value = tsquery_value(["摄像", "像头", "b1e"], [("摄像头", ("摄像", "像头"))])
    assert value == "('摄像头' | ('摄像' & '像头')) & 'b1e'"
    assert tsquery_value(["it's", "a\\b"]) == "'it''s' & 'a\\\\b'"
