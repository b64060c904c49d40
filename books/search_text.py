"""What a search matches, as pure functions over text: both repository backends use them.

Text is folded the same way on both sides: NFKC (decomposed Hangul jamo compose into
syllables, full-width letters become plain ones), casefolded, accents stripped (NFD and the
combining marks dropped; a Hangul syllable is kept whole, for NFD would split it into jamo).
Then it is cut into words at every character that is neither a letter nor a digit, and where
Hangul meets another script ("2권" is "2" and "권").

A query matches a book when each of its words matches the title or the author:

- a Hangul word of two or more syllables, as a substring of a Hangul word ("왕자" finds
  "어린 왕자", "린왕" does not, for the space ends a word);
- a Hangul word of one syllable, at the start of a Hangul word;
- any other word, as a prefix of a word ("prin" finds "The Little Prince").

SQL keeps each field as ``representation``: its words, each after a space. A word prefix is
then ``contains(" " + word)`` and a Hangul substring ``contains(word)`` (a word never holds a
space, so it cannot match across two): ``patterns`` gives them. DynamoDB keeps ``terms``:
items a query finds by one exact key (books/repository/dynamodb/search.py).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

# Every prefix of a word up to this length is a DynamoDB term; a longer query word is found
# by its first PREFIX_TERM_LENGTH characters and checked whole against the book.
PREFIX_TERM_LENGTH = 10
QUERY_MAX_LENGTH = 100


def _is_hangul(char: str) -> bool:
    """Of a folded character: compatibility jamo (U+3131..U+318E) are not looked for, for NFKC
    has turned every one of them into a conjoining jamo or a syllable."""
    code = ord(char)
    return (
        0xAC00 <= code <= 0xD7A3  # syllables
        or 0x1100 <= code <= 0x11FF  # jamo (left over when they do not compose)
        or 0xA960 <= code <= 0xA97F
        or 0xD7B0 <= code <= 0xD7FF
    )


def _is_syllable(char: str) -> bool:
    return 0xAC00 <= ord(char) <= 0xD7A3


def fold(text: str) -> str:
    """NFKC, casefolded, accents stripped, Hangul syllables kept whole."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    kept = []
    for char in folded:
        if _is_syllable(char):
            kept.append(char)
            continue
        kept.extend(c for c in unicodedata.normalize("NFD", char) if not unicodedata.combining(c))
    return "".join(kept)


@dataclass(frozen=True, slots=True)
class Word:
    text: str
    hangul: bool


def words(text: str) -> list[Word]:
    """The folded words of ``text``, in order."""
    found: list[Word] = []
    current: list[str] = []
    for char in fold(text):
        # A word ends at a character that is neither a letter nor a digit, and where Hangul
        # meets another script.
        if current and (not char.isalnum() or _is_hangul(char) != _is_hangul(current[0])):
            found.append(Word("".join(current), _is_hangul(current[0])))
            current = []
        if char.isalnum():
            current.append(char)
    if current:
        found.append(Word("".join(current), _is_hangul(current[0])))
    return found


def representation(text: str) -> str:
    """The field as SQL stores it: each word after a space (" the little prince")."""
    return "".join(f" {word.text}" for word in words(text))


def query_words(query: str) -> list[Word]:
    """The query's words, each once, in order."""
    return list(dict.fromkeys(words(query)))


def pattern(word: Word) -> str:
    """What ``representation`` contains when ``word`` matches (a substring for Hangul of two or
    more syllables, a word start for the rest)."""
    if word.hangul and len(word.text) >= 2:
        return word.text
    return f" {word.text}"


def word_matches(word: Word, representation_text: str) -> bool:
    return pattern(word) in representation_text


def matches(query: list[Word], *, title: str, author: str) -> bool:
    """Whether every query word matches the title or the author (fields as stored)."""
    if not query:
        return False
    shown = (representation(title), representation(author))
    return all(any(word_matches(word, field) for field in shown) for word in query)


# --- terms: what DynamoDB stores and looks up ------------------------------------------------


def word_terms(word: Word) -> list[str]:
    """The terms a word of a book is found by: a Hangul word's first syllable and its
    two-syllable pieces; another word's prefixes up to PREFIX_TERM_LENGTH."""
    text = word.text
    if word.hangul:
        return [text[0], *(text[i : i + 2] for i in range(len(text) - 1))]
    return [text[:n] for n in range(1, min(len(text), PREFIX_TERM_LENGTH) + 1)]


def terms(text: str) -> set[str]:
    return {term for word in words(text) for term in word_terms(word)}


def query_term(word: Word) -> str:
    """The one term that finds every book ``word`` matches (and maybe a few more, which the
    check against the book drops): a Hangul word's first two syllables, or its only one; a
    prefix of another word, cut to PREFIX_TERM_LENGTH."""
    if word.hangul:
        return word.text[:2]
    return word.text[:PREFIX_TERM_LENGTH]


def query_terms(query: list[Word]) -> list[str]:
    """The query's terms, each once, longest first (a longer prefix is shared by fewer words);
    a search looks up one of them (every book the query matches has each)."""
    return sorted(dict.fromkeys(query_term(word) for word in query), key=len, reverse=True)


def key_term(query: list[Word]) -> str:
    """The term SQL ranks by: the longest, the first of the longest on a tie. DynamoDB looks up
    the one whose partition is smallest, which is this one for a one-word query."""
    return query_terms(query)[0]


def key_word(query: list[Word]) -> Word:
    """The query word ``key_term`` comes from."""
    term = key_term(query)
    return next(word for word in query if query_term(word) == term)


def term_pattern(query: list[Word]) -> str:
    """What a field's ``representation`` contains when it holds the key term: a title holding
    it ranks first (``rank``)."""
    word = key_word(query)
    return pattern(Word(query_term(word), word.hangul))


def rank(query: list[Word], *, title: str) -> int:
    """0 when the title holds the query's key term, 1 when only the author does: titles first.
    A book whose title matches every word ranks 0, one found by its author alone 1."""
    return term_rank(key_term(query), title=title)


def term_rank(term: str, *, title: str) -> int:
    """0 when ``term`` is one of the title's terms, else 1 (the term item's rank)."""
    return 0 if term in terms(title) else 1
