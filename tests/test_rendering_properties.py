"""Whatever is typed, rendering answers, and answers only with allowed elements, attributes,
classes and link schemes."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from counterline.messages.rendering import COLOURS, render_body
from tests.support.render_corpus import FAITHFUL, HOSTILE, Rendered, outside_the_allow_list

FRAGMENTS = [
    *("*", "**", "_", "__", "~~", "`", "```", "\n", "\n\n", " ", "> ", "- ", "1. ", "| ", "|---|"),
    *("[", "]", "(", ")", "](", "![", "<", ">", "&", "&#x6a;", "&amp;", "\\", "\\\\", '"', "'"),
    *("http://", "https://a.cn/", "javascript:", "JaVaScRiPt:", "data:", "file:", "mailto:", "//"),
    *("oa.company.local", "a@b.cn", "10.1.2.3:80", "<script>", "<img src=x onerror=", " onclick="),
    *("style=", "class=", "\u202e", "\u2066", "\u00a0", "\u3000", "，", "。", "中", "B1E", "007."),
    *(f"{{{name}}}" for name in COLOURS),
    *(f"{{/{name}}}" for name in COLOURS),
    "{pink}",
    *HOSTILE[:40],
    *FAITHFUL,
]
markdownish = st.lists(st.sampled_from(FRAGMENTS), max_size=40).map("".join)
PROPERTIES = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTIES
@given(st.text(max_size=300))
def test_any_text_renders_within_the_allow_list(text: str) -> None:
    assert outside_the_allow_list(render_body(text)) == []


@PROPERTIES
@given(markdownish)
def test_any_mix_of_markdown_fragments_renders_within_the_allow_list(text: str) -> None:
    assert outside_the_allow_list(render_body(text)) == []


@PROPERTIES
@given(st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=5), max_size=30).map("".join))
def test_fragments_mixed_with_any_text_render_within_the_allow_list(text: str) -> None:
    assert outside_the_allow_list(render_body(text)) == []


codes = st.lists(
    st.from_regex(r"[A-Za-z0-9]{1,6}", fullmatch=True), min_size=1, max_size=8
).flatmap(
    lambda words: st.lists(
        st.text("*_~-./\\:;#=&?%+@", min_size=1, max_size=3),
        min_size=len(words) - 1,
        max_size=len(words) - 1,
    ).map(lambda joints: "".join(w + j for w, j in zip(words, [*joints, ""], strict=True)))
)


@PROPERTIES
@given(codes)
def test_a_code_of_letters_and_digits_joined_by_punctuation_reads_as_typed(code: str) -> None:
    assert Rendered(render_body(code)).visible_text() == code
