"""Text that people read (titles, authors, notes, file names, device names): what may not be in
it. Characters that are invisible or reorder what follows disguise text: "evil\\u202egpj.m4a"
reads as "evila4m.jpg" in the console. Refused where a client sends them, removed from file
names."""

from __future__ import annotations

import unicodedata

# Joiners shape scripts and emoji (ZWNJ in Persian and Indic scripts, ZWJ in 👩‍💻): kept. Every
# other format character (Cf: bidi overrides, embeddings and isolates, marks, zero-width
# spaces, word joiners, tag characters, the BOM) is invisible, and so are controls (Cc). A lone
# surrogate (Cs) is no character at all, and no store can encode it.
_JOINERS = frozenset("\u200c\u200d")
_HIDDEN = frozenset({"Cc", "Cf", "Cs"})
# Letters and symbols that draw nothing: the Hangul fillers and the blank braille pattern make
# a title that looks empty.
_BLANK = frozenset("\u115f\u1160\u3164\uffa0\u2800")
# Line and paragraph separators break a one-line field as a newline would.
_LINE_BREAKS = frozenset({"Zl", "Zp"})
_MULTILINE_ALLOWED = frozenset("\n\r\t")


def disguising_character(text: str, *, multiline: bool = False) -> str | None:
    """The first character of ``text`` that hides or disguises what it reads as, or None.
    ``multiline`` text (a description, a note) may hold newlines and tabs."""
    for character in text:
        if character in _JOINERS or (multiline and character in _MULTILINE_ALLOWED):
            continue
        if character in _BLANK:
            return character
        category = unicodedata.category(character)
        if category in _HIDDEN or (not multiline and category in _LINE_BREAKS):
            return character
    return None


def without_disguising_characters(text: str) -> str:
    """``text`` without the characters disguising_character finds (one-line rules)."""
    return "".join(c for c in text if disguising_character(c) is None)


def describe(character: str) -> str:
    """How an error names the character: U+202E RIGHT-TO-LEFT OVERRIDE."""
    name = unicodedata.name(character, "")
    return f"U+{ord(character):04X}" + (f" {name}" if name else "")
