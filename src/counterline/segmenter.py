"""Search terms of a text: what the index stores and what a query looks up.

Chinese has no spaces between words, so a text's Chinese runs are indexed as every
character and every overlapping pair of characters: any one- or two-character query is
one term, and a longer word is the AND of its pairs (the caller then keeps only texts that
really contain the word: the pairs may occur apart). Words of three or more characters that
the segmenter (rjieba, jieba's Rust port, chosen by measurement in bench/README.md) finds in
the text, custom business terms included, are terms too, so a whole-word match can rank
above a scattered one. Other runs (codes, English, numbers) are one term each, lowercased,
and a code such as ``B1E-0D7`` also each of its parts (``b1e``, ``0d7``). Traditional characters
are folded into simplified ones (OpenCC's character table), so ``資費`` finds ``资费`` and back.

Every term is a run of letters and digits, or such runs joined by ``-_./``: the SQLite
index's tokenizer (``message_search``) sees each as exactly one token.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from operator import add
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import rjieba

# A longer term is cut to this length, at index and query time alike (PostgreSQL refuses
# lexemes over 2 KB); a query for a longer token then needs the substring check.
MAX_TERM = 100
# Shortest segmenter word that is indexed as a term: shorter ones are already pairs.
MIN_WORD = 3

_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
_HAN_RUN = re.compile(f"[{_HAN}]+")
_WORD_CHAR = f"[^\\W_{_HAN}]"
_CODE = re.compile(f"{_WORD_CHAR}+(?:[-_./]{_WORD_CHAR}+)*")
_PART = re.compile(f"{_WORD_CHAR}+")
# One pass over a text: a Chinese run, or a code/word token.
_RUN = re.compile(f"(?P<han>[{_HAN}]+)|(?P<code>{_CODE.pattern})")


def _simplified_characters() -> dict[int, str]:
    """Each traditional character and its (first) simplified form. Character by character,
    one code point for one, so a position in the folded text is one in the original."""
    table = resources.files("opencc") / "dictionary" / "TSCharacters.txt"
    folds = {}
    for line in table.read_text(encoding="utf-8").splitlines():
        traditional, simplified = line.split("\t")
        folds[ord(traditional)] = simplified.split(" ")[0]
    return folds


_SIMPLIFIED = _simplified_characters()


def normalise(text: str) -> str:
    """The form both the index and the substring check see: full-width letters and digits
    made plain (NFKC), lowercased and traditional characters simplified, so ``Ｂ１Ｅ`` and
    ``b1e`` are the same, and so are ``資費`` and ``资费``."""
    if not unicodedata.is_normalized("NFKC", text):  # the check is ~20 times cheaper
        text = unicodedata.normalize("NFKC", text)
    return text.lower().translate(_SIMPLIFIED)


class _Dictionary:
    """The segmenter with the custom business terms; replaced whole when a term is removed
    (rjieba can add a word but not forget one)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._custom: frozenset[str] = frozenset()
        self._built: rjieba.Jieba | None = None  # built on first use (~0.2 s)

    @property
    def _jieba(self) -> rjieba.Jieba:
        if self._built is None:
            with self._lock:
                if self._built is None:
                    self._built = _new_jieba()
        return self._built

    def words_of(self, run: str) -> list[str]:
        return self._jieba.cut_for_search(run)

    def add(self, words: Iterable[str]) -> None:
        fresh = [w for w in (normalise(w).strip() for w in words) if w]
        jieba = self._jieba
        with self._lock:
            for word in fresh:
                jieba.add_word(word, None, None)
            self._custom = self._custom | frozenset(fresh)

    def replace(self, words: Iterable[str]) -> None:
        wanted = frozenset(w for w in (normalise(w).strip() for w in words) if w)
        if wanted == self._custom and self._built is not None:
            return
        jieba = _new_jieba()  # built aside, then swapped in
        for word in wanted:
            jieba.add_word(word, None, None)
        with self._lock:
            self._built, self._custom = jieba, wanted


def _new_jieba() -> rjieba.Jieba:
    """A segmenter with jieba's own dictionary (~0.1 s). rjieba is imported here, not at
    the top: importing it costs as much again, and the command line's other commands and a
    server that has not indexed anything yet don't need it."""
    import rjieba

    return rjieba.Jieba()


_dictionary = _Dictionary()


def add_words(words: Iterable[str]) -> None:
    """Teach the segmenter business terms (the admin-edited dictionary), in this process."""
    _dictionary.add(words)


def use_words(words: Iterable[str]) -> None:
    """Make ``words`` the custom terms, forgetting any others (after a removal). The first
    call builds the segmenter (the server's, at start-up, on a thread): else the first post
    would wait for it on the event loop, with every request behind it."""
    _dictionary.replace(words)


def index_terms(text: str) -> list[str]:
    """The distinct terms under which a text is found (in no particular order)."""
    text = normalise(text)
    terms: set[str] = set()
    long_run = False
    for run in _HAN_RUN.findall(text):
        terms.update(run)
        terms.update(map(add, run[:-1], run[1:]))
        long_run = long_run or len(run) >= MIN_WORD
    if long_run:
        # One call for the whole text: the segmenter splits it at what is not Chinese anyway.
        terms.update(
            word[:MAX_TERM]
            for word in _dictionary.words_of(text)
            if len(word) >= MIN_WORD and _HAN_RUN.fullmatch(word)
        )
    for token in _CODE.findall(text):
        terms.add(token[:MAX_TERM])
        if len(token) > 1 and not token.isalnum():
            terms.update(part[:MAX_TERM] for part in _PART.findall(token))
    return list(terms)


def words_of(text: str) -> set[str]:
    """The words of a text as a reader sees them (segmenter words, whole codes): a query
    word found among them is a whole-word match, which ranks higher."""
    words: set[str] = set()
    for match in _RUN.finditer(normalise(text)):
        if match.lastgroup == "han":
            words.update(_dictionary.words_of(match.group()))
        else:
            words.add(match.group())
    return words


@dataclass(frozen=True, slots=True)
class QueryWord:
    """One word of a query: found where all its ``terms`` are; ``exact`` when that alone
    proves the text contains ``text`` (else the caller checks the substring)."""

    text: str
    terms: tuple[str, ...]
    exact: bool


def query_words(text: str) -> list[QueryWord]:
    """The words of a query text, each with the index terms that must all be present."""
    words = []
    for match in _RUN.finditer(normalise(text)):
        run = match.group()
        if match.lastgroup == "han":
            if len(run) <= 2:
                words.append(QueryWord(run, (run,), True))
            else:
                pairs = dict.fromkeys(run[i : i + 2] for i in range(len(run) - 1))
                words.append(QueryWord(run, tuple(pairs), False))
        else:
            words.append(QueryWord(run, (run[:MAX_TERM],), len(run) <= MAX_TERM))
    return words


def query_terms(text: str) -> list[str]:
    """Every index term a query text needs (all of them must be present)."""
    terms: dict[str, None] = {}
    for word in query_words(text):
        terms.update(dict.fromkeys(word.terms))
    return list(terms)
