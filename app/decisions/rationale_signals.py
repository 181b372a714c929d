"""What the rationale really says: feeling, certainty, authority and hearsay phrases found in it, in English and
Russian, whatever the word form (DESIGN.md, part 2, `rationale_signals`).

The phrases are a data file, ``rationale_lexicon.toml`` beside this module, which says how they match. Russian
words are expanded, once, into every form of every word they can be (pymorphy3 and its OpenCorpora dictionary),
so that matching a rationale is a dictionary lookup per word; English words are compared by their Snowball stem
(cached). Signals describe the language of a rationale; they never change its ``basis_class``.
"""

from __future__ import annotations

import bisect
import functools
import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

LEXICON = Path(__file__).with_name("rationale_lexicon.toml")
MAX_GAP = 2  # other words allowed between two words of a phrase
WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")  # letters, with inner hyphens ("по-моему")
PHRASE_WORD = re.compile("=?" + WORD.pattern)  # in the lexicon, "=" marks a word matched in that form only
SENTENCE = re.compile(r"[.!?;:\n]+")
CYRILLIC = re.compile(r"[\u0400-\u04ff]")
NONE: frozenset[int] = frozenset()
MAX_KNOWN_WORDS = 200_000  # words remembered with their ids (a few tens of MiB at most)


class Signal(StrEnum):
    feeling = "feeling"
    certainty = "certainty"
    authority = "authority"
    hearsay = "hearsay"


# Each signal's bit in ``decision.rationale_signal_mask``, the indexed form of a decision's signals (the
# ``rationale_signal=`` filter reads one partial index per signal). Fixed: stored values and indexes use them.
SIGNAL_BITS = {Signal.feeling: 1, Signal.certainty: 2, Signal.authority: 4, Signal.hearsay: 8}


@dataclass(frozen=True, slots=True)
class Found:
    signal: Signal
    phrase: str  # as the rationale writes it, from its first matched word to its last


def _fold(word: str) -> str:
    return word.lower().replace("\N{CYRILLIC SMALL LETTER IO}", "\N{CYRILLIC SMALL LETTER IE}")


def _stem(word: str) -> str:
    return str(_english().stemWord(word))


@functools.cache
def _english() -> Any:
    import snowballstemmer  # type: ignore[import-untyped]

    return snowballstemmer.stemmer("english")


@dataclass(slots=True)
class Lexicon:
    """The phrases, each a sequence of word ids, and how a rationale's words map to those ids."""

    phrases: list[tuple[Signal, tuple[int, ...]]] = field(default_factory=list)
    forms: dict[str, set[int]] = field(default_factory=dict)  # Russian forms and exact words → word ids
    stems: dict[str, set[int]] = field(default_factory=dict)  # English stems → word ids
    by_first: dict[int, list[int]] = field(default_factory=dict)  # a phrase's first word id → phrase indexes
    needs: list[frozenset[int]] = field(default_factory=list)  # each phrase's word ids, to skip it early
    _ids: dict[tuple[str, str], int] = field(default_factory=dict)
    _known: dict[str, frozenset[int]] = field(default_factory=dict)  # a rationale's word as written → its ids

    def word(self, text: str, morph: Any) -> int:
        exact = text.startswith("=")
        folded = _fold(text.lstrip("="))
        russian = bool(CYRILLIC.search(folded))
        kind = "exact" if exact else "ru" if russian else "en"
        key = (kind, folded)
        if key in self._ids:
            return self._ids[key]
        word_id = self._ids[key] = len(self._ids)
        if kind == "en":
            self.stems.setdefault(_stem(folded), set()).add(word_id)
            return word_id
        forms = {folded}
        if kind == "ru":
            for parse in morph.parse(folded):
                forms.update(_fold(form.word) for form in parse.lexeme)
        for form in forms:
            self.forms.setdefault(form, set()).add(word_id)
        return word_id

    def ids(self, word: str) -> frozenset[int]:
        known = self._known.get(word)
        if known is not None:
            return known
        folded = _fold(word)
        found = frozenset(self.forms.get(folded, NONE))
        if folded.isascii():
            found |= self.stems.get(_stem(folded), NONE)
        if len(self._known) < MAX_KNOWN_WORDS:
            self._known[word] = found
        return found


@functools.cache
def lexicon(path: Path = LEXICON) -> Lexicon:
    """The lexicon of ``path``, built once per process (about a quarter of a second: the Russian dictionary)."""
    import pymorphy3  # type: ignore[import-untyped]

    morph = pymorphy3.MorphAnalyzer()
    built = Lexicon()
    with path.open("rb") as source:
        data = tomllib.load(source)
    for name, languages in data.items():
        signal = Signal(name)
        for phrases in languages.values():
            for phrase in phrases:
                words = tuple(built.word(word, morph) for word in _words(phrase))
                if words:
                    built.by_first.setdefault(words[0], []).append(len(built.phrases))
                    built.phrases.append((signal, words))
                    built.needs.append(frozenset(words))
    return built


def _words(text: str) -> list[str]:
    return [match.group() for match in PHRASE_WORD.finditer(text.replace("'", " "))]


def rationale_signals(rationale: str, known: Lexicon | None = None) -> list[Found]:
    """The signals of ``rationale``, in the order they occur, each phrase once. One pass over its words; only the
    sentences with a word of the lexicon are looked into (most rationales have none: they end after the pass)."""
    table = known or lexicon()
    plain = rationale.replace("'", " ")  # "I'm" as two words, as the lexicon's phrases are read; same offsets
    matches = list(WORD.finditer(plain))
    ids = [table.ids(match.group()) for match in matches]
    if not any(ids):
        return []
    ends = [boundary.start() for boundary in SENTENCE.finditer(plain)]
    found: list[Found] = []
    seen: set[tuple[Signal, str]] = set()
    sentence_of = [bisect.bisect_left(ends, match.start()) for match in matches]
    low = 0
    while low < len(matches):
        high = low + 1
        while high < len(matches) and sentence_of[high] == sentence_of[low]:
            high += 1
        if any(ids[low:high]):
            for start, end, signal in _phrases(table, ids[low:high]):
                phrase = rationale[matches[low + start].start() : matches[low + end].end()]
                key = (signal, _fold(phrase))
                if key not in seen:
                    seen.add(key)
                    found.append(Found(signal, phrase))
        low = high
    return found


def _phrases(table: Lexicon, ids: list[frozenset[int]]) -> Iterator[tuple[int, int, Signal]]:
    """(first word, last word, signal) of each phrase found in a sentence's words (their ids). A phrase one of
    whose words the sentence lacks is not looked for (most phrases share their first word with others: "I …")."""
    present = frozenset().union(*ids)
    for start, first in enumerate(ids):
        for word_id in first:
            for index in table.by_first.get(word_id, ()):
                if not table.needs[index] <= present:
                    continue
                signal, words = table.phrases[index]
                end = _rest(ids, start, words[1:])
                if end is not None:
                    yield start, end, signal


def _rest(ids: list[frozenset[int]], position: int, words: tuple[int, ...]) -> int | None:
    """The position of a phrase's last word when ``words`` follow ``position``, each within MAX_GAP words."""
    for word_id in words:
        for step in range(1, MAX_GAP + 2):
            if position + step < len(ids) and word_id in ids[position + step]:
                position += step
                break
        else:
            return None
    return position


def stored_signals(rationale: str) -> tuple[list[dict[str, str]], int]:
    """The signals of ``rationale`` as a decision stores them: the list the API shows (``{signal, phrase}``, in
    order) and their bits (:data:`SIGNAL_BITS`) for ``rationale_signal_mask``."""
    found = rationale_signals(rationale)
    mask = 0
    for item in found:
        mask |= SIGNAL_BITS[item.signal]
    return [{"signal": item.signal.value, "phrase": item.phrase} for item in found], mask
