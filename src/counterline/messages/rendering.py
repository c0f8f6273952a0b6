"""The one path from message text to HTML: a Markdown subset, then nh3 sanitising.

What a clerk typed is what everyone reads: formatting never eats or changes the characters
of codes, numbers, paths and addresses. So backslash escapes and entities are off, emphasis
delimiters only count at the outer edge of a word (``B1E*0D7*X`` stays as typed), ordered
list markers stay text (``007. 号窗口`` would otherwise show as ``7.``), a quote needs a space
after ``>``, and link texts are shown as typed (no percent-decoding).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

import nh3
from linkify_it import LinkifyIt
from linkify_it.main import Match
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.parser_inline import ParserInline
from markdown_it.rules_block import blockquote, list_block
from markdown_it.rules_block.state_block import StateBlock
from markdown_it.rules_inline.state_inline import Scanned, StateInline
from markdown_it.token import Token
from markdown_it.utils import EnvType

# The palette of {name}text{/name}, in the order the composer's toolbar shows it.
COLOURS = ("red", "orange", "green", "blue", "purple", "grey")
INTRANET_TLDS = ("local", "lan", "intra", "corp", "internal", "home")
ALLOWED_TAGS = frozenset(
    {"p", "br", "em", "strong", "s", "code", "pre", "blockquote", "ul", "li", "a", "span"}
    | {"table", "thead", "tbody", "tr", "th", "td"}
)
# A resolved mention (messages.mentions): ``<span class="mention" data-mention-kind="user"
# data-mention="wangfang" title="@wangfang">@王芳</span>``.
MENTION_ATTRIBUTES = frozenset({"data-mention-kind", "data-mention", "title"})
ALLOWED_ATTRIBUTES = {
    "a": frozenset({"href", "rel", "target"}),
    "span": frozenset({"class", *MENTION_ATTRIBUTES}),
}
ALLOWED_CLASSES = frozenset({"unc", "mention", *(f"tc-{name}" for name in COLOURS)})
URL_SCHEMES = frozenset({"http", "https", "mailto"})
LINK_REL = "noopener noreferrer nofollow"

# Embedding, override and isolate controls are removed: they could reorder what follows
# (``invoice\u202efdp.exe`` shows as ``invoiceexe.pdf``).
_BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")
_SAFE_LINK = re.compile(r"(?:https?://|mailto:)", re.IGNORECASE)
_ORDERED_MARKER = re.compile(r"[0-9]{1,9}[.)](?:[ \t]|$)")
_QUOTE_MARKERS = re.compile(r"(?:>[ \t]*)+")
_COLOUR_OPEN = re.compile(r"\{(" + "|".join(COLOURS) + r")\}")
# A UNC path or file: URL runs to whitespace, to characters no Windows path holds, to
# full-width punctuation that ends a Chinese clause or to a Markdown link's ``](``. Trailing
# ASCII punctuation is the sentence's, not the path's.
_PATH_END = re.compile(r"[\s<>\"|，。；：！？、“”]|\]\(")
_PATH_TRAILING = ".,;:!?'"
# Linkify-it takes these into an address; in Chinese text they end the clause around it.
_ADDRESS_END = re.compile(r"[，。；：！？、“”‘’（）【】《》「」『』…]")
# Characters that join a code when a letter or digit follows them (``**3**.5``, ``B1E-*x*``,
# ``0::*0*::0``).
# Brackets and quotes are not: they wrap formatting (``(**注意**)``).
_CODE_JOINERS = frozenset(".,;:!?#$%&+-=@^|~`*")


def _is_code_char(char: str) -> bool:
    """Part of a code or path: a letter or digit of a spaced script, ``_``, ``\\``, ``/``.
    Han, kana and hangul are not: CJK text has no spaces, so each character is a word edge."""
    if char in "_\\/":
        return True
    return char.isalnum() and unicodedata.east_asian_width(char) != "W"


def _joins_code(src: str, index: int, step: int) -> bool:
    """Whether ``src[index]``, read away from a delimiter by ``step``, continues a code."""
    while 0 <= index < len(src) and src[index] in _CODE_JOINERS:
        index += step
    return 0 <= index < len(src) and _is_code_char(src[index])


class _Addresses(LinkifyIt):
    """Addresses end at full-width punctuation: ``详见http://a.cn/x，谢谢``."""

    def normalize(self, match: Match) -> None:
        end = _ADDRESS_END.search(match.raw)
        if end is not None:
            match.raw = match.text = match.url = match.raw[: end.start()]
            match.last_index = match.index + end.start()
        super().normalize(match)


class _WordEdgeState(StateInline):
    """Emphasis and strikethrough delimiters open only with a word edge before them and close
    only with one after them, so ``*`` and ``_`` inside codes (``2*3*4``) stay text."""

    def scanDelims(self, start: int, canSplitWord: bool) -> Scanned:
        src, end = self.src, start
        while end < self.posMax and src[end] == src[start]:
            end += 1
        before = src[start - 1] if start > 0 else " "
        after = src[end] if end < self.posMax else " "
        can_open = not after.isspace() and not _joins_code(src, start - 1, -1)
        can_close = not before.isspace() and not _joins_code(src, end, 1)
        return Scanned(can_open, can_close, end - start)


class _InlineParser(ParserInline):
    def parse(self, src: str, md: MarkdownIt, env: EnvType, tokens: list[Token]) -> list[Token]:
        state = _WordEdgeState(src, md, env, tokens)
        self.tokenize(state)
        for rule in self.ruler2.getRules(""):
            rule(state)
        return state.tokens


def _bullet_lists_only(state: StateBlock, start: int, end: int, silent: bool) -> bool:
    line = state.src[state.bMarks[start] + state.tShift[start] : state.eMarks[start]]
    if _ORDERED_MARKER.match(line):
        return False
    return list_block(state, start, end, silent)


def _spaced_quotes_only(state: StateBlock, start: int, end: int, silent: bool) -> bool:
    """``> quote`` but not ``>100元``."""
    line = state.src[state.bMarks[start] + state.tShift[start] : state.eMarks[start]]
    markers = _QUOTE_MARKERS.match(line)
    if markers is None or (markers.end() < len(line) and line[markers.end() - 1] == ">"):
        return False
    return blockquote(state, start, end, silent)


def _path_length(src: str, start: int, limit: int) -> int:
    found = _PATH_END.search(src, start, limit)
    end = found.start() if found else limit
    while end > start and src[end - 1] in _PATH_TRAILING:
        end -= 1
    if src.count(")", start, end) > src.count("(", start, end) and src[end - 1] == ")":
        end -= 1
    return end - start


def _push_path(state: StateInline, start: int, prefix: int, silent: bool) -> bool:
    length = _path_length(state.src, start, state.posMax)
    if length <= prefix:
        return False
    if not silent:
        state.pending = state.pending[: len(state.pending) - (state.pos - start)]
        state.push("unc", "span", 0).content = state.src[start : start + length]
    state.pos = start + length
    return True


def _unc_path(state: StateInline, silent: bool) -> bool:
    """``\\\\server\\share\\file``: shown exactly as typed; a browser can't open it."""
    pos = state.pos
    if not state.src.startswith("\\\\", pos) or _joins_code(state.src, pos - 1, -1):
        return False
    return _push_path(state, pos, len("\\\\"), silent)


def _file_url(state: StateInline, silent: bool) -> bool:
    """``file:///C:/...``: shown exactly as typed, like a UNC path."""
    src, pos = state.src, state.pos
    if pos < 4 or not src.startswith(":/", pos) or src[pos - 4 : pos].lower() != "file":
        return False
    if _joins_code(src, pos - 5, -1) or not (silent or state.pending[-4:].lower() == "file"):
        return False
    return _push_path(state, pos - 4, len("file:/"), silent)


def _colour(state: StateInline, silent: bool) -> bool:
    """``{red}text{/red}``: a palette colour, as a class; the text inside keeps its formatting."""
    opening = _COLOUR_OPEN.match(state.src, state.pos, state.posMax)
    if opening is None:
        return False
    closing = "{/" + opening[1] + "}"
    end = state.src.find(closing, opening.end(), state.posMax)
    if end <= opening.end():
        return False
    if not silent:
        state.push("colour_open", "span", 1).attrs = {"class": f"tc-{opening[1]}"}
        limit, state.pos, state.posMax = state.posMax, opening.end(), end
        state.md.inline.tokenize(state)
        state.posMax = limit
        state.push("colour_close", "span", -1)
    state.pos = end + len(closing)
    return True


def _image_as_text(state: StateInline, silent: bool) -> bool:
    """``![…](…)`` is text (pictures come as attachments), so its link is not a link."""
    if not state.src.startswith("![", state.pos):
        return False
    if not silent:
        state.pending += "!["
    state.pos += 2
    return True


@dataclass(frozen=True, slots=True)
class Mention:
    """Who or what an ``@token`` names: ``kind`` user, branch, role or all; ``id`` the user's
    or branch's id (None for role and all); ``name`` the username, branch name, role or
    ``all``; ``label`` what the span shows after ``@`` (a user's display name, or the
    token as typed when None)."""

    kind: str
    id: int | None
    name: str
    label: str | None = None


MAX_MENTION_LENGTH = 100  # the longest display or branch name


def _mention(state: StateInline, silent: bool) -> bool:
    """``@王芳``, ``@wangfang``, ``@城北营业厅``, ``@培训师``, ``@all``: the longest token that
    ``env["mentions"]`` knows (keys case-folded), after a word edge (``a@b.cn`` is an
    address) and, for a token ending in a letter or digit of a spaced script, before one."""
    src, pos = state.src, state.pos
    known = state.env.get("mentions") if isinstance(state.env, dict) else None
    if not known or src[pos] != "@" or _joins_code(src, pos - 1, -1):
        return False
    segment = src[pos + 1 : min(state.posMax, pos + 1 + MAX_MENTION_LENGTH)].split(maxsplit=1)
    typed = segment[0] if segment else ""
    for length in range(len(typed), 0, -1):
        mention = known.get(typed[:length].casefold())
        if mention is None:
            continue
        if _is_code_char(typed[length - 1]) and _joins_code(src, pos + 1 + length, 1):
            continue
        if not silent:
            token = state.push("mention", "span", 0)
            token.content = typed[:length]
            token.meta = {"mention": mention}
            state.env.setdefault("found", []).append(mention)
        state.pos = pos + 1 + length
        return True
    return False


def _render_mention(_renderer: object, tokens: list[Token], index: int, *_: object) -> str:
    token = tokens[index]
    mention: Mention = token.meta["mention"]
    title = f' title="@{escapeHtml(mention.name)}"' if mention.kind == "user" else ""
    return (
        f'<span class="mention" data-mention-kind="{escapeHtml(mention.kind)}"'
        f' data-mention="{escapeHtml(mention.name)}"{title}>'
        f"@{escapeHtml(mention.label or token.content)}</span>"
    )


def _render_path(_renderer: object, tokens: list[Token], index: int, *_: object) -> str:
    return f'<span class="unc">{escapeHtml(tokens[index].content)}</span>'


def _build(*, linkify: bool) -> MarkdownIt:
    options = {"html": False, "linkify": linkify, "breaks": True, "typographer": False}
    md = MarkdownIt("commonmark", options)
    md.inline.__class__ = _InlineParser  # same rules, with the word-edge delimiter scan
    md.enable(["table", "strikethrough", "linkify"])
    md.disable(["image", "heading", "lheading", "hr", "html_block", "html_inline", "reference"])
    md.disable(["escape", "entity", "autolink", "code"])
    md.block.ruler.at("list", _bullet_lists_only, {"alt": ["paragraph", "reference", "blockquote"]})
    md.block.ruler.at(
        "blockquote",
        _spaced_quotes_only,
        {"alt": ["paragraph", "reference", "blockquote", "list"]},
    )
    md.inline.ruler.before("linkify", "file_url", _file_url)
    md.inline.ruler.before("linkify", "unc_path", _unc_path)
    md.inline.ruler.before("emphasis", "colour", _colour)
    md.inline.ruler.before("link", "image_as_text", _image_as_text)
    md.inline.ruler.before("link", "mention", _mention)
    md.add_render_rule("unc", _render_path)
    md.add_render_rule("mention", _render_mention)
    md.validateLink = lambda url: _SAFE_LINK.match(url) is not None  # type: ignore[method-assign]
    md.normalizeLinkText = lambda text: text  # type: ignore[method-assign]
    md.linkify = _Addresses().tlds(list(INTRANET_TLDS), True)
    return md


_markdown = _build(linkify=True)
# Linkify's search costs a third of a short message's rendering; a link needs a "." or a ":".
_markdown_without_links = _build(linkify=False)
_cleaner = nh3.Cleaner(
    tags=set(ALLOWED_TAGS),
    attributes={"a": {"href"}, "span": set(MENTION_ATTRIBUTES)},
    allowed_classes={"span": set(ALLOWED_CLASSES)},
    set_tag_attribute_values={"a": {"target": "_blank"}},
    url_schemes=set(URL_SCHEMES),
    url_relative="deny",
    link_rel=LINK_REL,
)


def render_body(text: str, mentions: Mapping[str, Mention] | None = None) -> str:
    """The stored HTML of a message body: the Markdown subset, sanitised. ``mentions``: the
    tokens (case-folded, without ``@``) that are mentions here (messages.mentions)."""
    return render_with_mentions(text, mentions)[0]


def render_with_mentions(
    text: str, mentions: Mapping[str, Mention] | None
) -> tuple[str, list[Mention]]:
    """``render_body``, and the mentions it found outside code, in order (repeats included)."""
    markdown = _markdown if "." in text or ":" in text else _markdown_without_links
    env: dict[str, object] = {"mentions": mentions} if mentions and "@" in text else {}
    html = sanitise(markdown.render(_BIDI_CONTROLS.sub("", text), env)).strip()
    found = env.get("found")
    return html, found if isinstance(found, list) else []


def sanitise(html: str) -> str:
    """Only the allow-listed elements, attributes, classes and link schemes of ``html``."""
    return _cleaner.clean(html)
