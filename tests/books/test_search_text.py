"""What a search matches, as pure functions (books/search_text.py)."""

from __future__ import annotations

import unicodedata

import pytest

from books.search_text import (
    PREFIX_TERM_LENGTH,
    Word,
    fold,
    key_term,
    key_word,
    matches,
    query_terms,
    query_words,
    rank,
    representation,
    term_pattern,
    term_rank,
    terms,
    words,
)


def finds(query: str, title: str, author: str = "") -> bool:
    return matches(query_words(query), title=title, author=author)


def test_fold_normalises_case_accents_and_width():
    assert fold("Crème BRÛLÉE") == "creme brulee"
    assert fold("Saint-Exupéry") == "saint-exupery"
    assert fold("\uff30\uff32\uff29\uff2e\uff23\uff25") == "prince"  # full width
    assert fold("Straße") == "strasse"


def test_fold_composes_decomposed_hangul_and_never_splits_syllables():
    assert fold(unicodedata.normalize("NFD", "어린 왕자")) == "어린 왕자"
    assert fold("어린 왕자") == "어린 왕자"


def test_words_split_at_punctuation_and_between_hangul_and_other_scripts():
    assert [w.text for w in words("Saint-Exupéry, «Le Petit Prince»")] == [
        "saint",
        "exupery",
        "le",
        "petit",
        "prince",
    ]
    assert words("해리포터2권") == [Word("해리포터", True), Word("2", False), Word("권", True)]
    assert representation("어린 왕자 (The Little Prince)") == " 어린 왕자 the little prince"


@pytest.mark.parametrize(
    ("query", "title", "author"),
    [
        ("왕자", "어린 왕자", ""),
        ("어린 왕자", "어린 왕자", ""),
        ("왕", "어린 왕자", ""),
        ("PRIN", "The Little Prince", ""),
        ("exupery", "어린 왕자", "Antoine de Saint-Exupéry"),
        ("creme", "Crème brûlée", ""),
        ("little exup", "The Little Prince", "Saint-Exupéry"),
        (unicodedata.normalize("NFD", "어린 왕자"), "어린 왕자", ""),
        ("어린 왕자", unicodedata.normalize("NFD", "어린 왕자"), ""),
        ("2권", "해리포터 2권", ""),
        ("princesses", "Princesses of Mars", ""),
        ("왕자", "어린왕자", ""),  # two syllables: anywhere in a word
    ],
)
def test_finds(query, title, author):
    assert finds(query, title, author)


@pytest.mark.parametrize(
    ("query", "title", "author"),
    [
        ("린왕", "어린 왕자", ""),
        ("자", "어린 왕자", ""),  # one syllable: at a word start only
        ("rince", "The Little Prince", ""),  # Latin: a word prefix, not a substring
        ("prince mars", "The Little Prince", ""),  # every word must match
        ("!!!", "!!! the band", ""),  # no word: nothing
        ("", "anything", ""),
        ("%", "100% cotton", ""),
        ("_", "snake_case", ""),
        ("princesses", "The Little Prince", ""),  # longer than any term: checked whole
    ],
)
def test_does_not_find(query, title, author):
    assert not finds(query, title, author)


def test_terms_are_hangul_first_syllables_and_pairs_and_prefixes_of_other_words():
    assert terms("어린 왕자") == {"어", "어린", "왕", "왕자"}
    assert terms("Prince") == {"p", "pr", "pri", "prin", "princ", "prince"}
    assert max(len(t) for t in terms("Supercalifragilistic")) == PREFIX_TERM_LENGTH


def test_every_match_is_found_by_the_key_term():
    # The DynamoDB search reads one term's items: every book the query matches has it.
    cases = [
        ("왕자님", "어린 왕자님"),
        ("왕", "왕자"),
        ("supercalifragilisticexpi", "Supercalifragilisticexpialidocious"),
        ("little pr", "The Little Prince"),
    ]
    for query, title in cases:
        words_ = query_words(query)
        assert finds(query, title)
        assert key_term(words_) in terms(title)


def test_key_term_is_the_longest():
    assert key_term(query_words("a little prince")) == "little"
    assert key_term(query_words("어린 왕자")) == "어린"


def test_rank_puts_title_matches_first():
    query = query_words("prince")
    assert rank(query, title="The Little Prince") == 0
    assert rank(query, title="Le Petit") == 1


def test_hostile_text_folds_without_error():
    hostile = "\x00\x07\u200b\ufeff" + "가" * 100 + "\U0001f600" + "\udc80"
    assert [w.text for w in words(hostile)] == ["가" * 100]


def test_query_terms_are_each_words_term_longest_first():
    assert query_terms(query_words("a little prince 어린왕자")) == ["little", "prince", "어린", "a"]
    assert query_terms(query_words("supercalifragilistic")) == ["supercalif"]


def test_a_title_matching_every_word_ranks_first_whichever_term_is_read():
    query = query_words("little prince")
    for term in query_terms(query):
        assert term_rank(term, title="The Little Prince") == 0
        assert term_rank(term, title="Le Petit") == 1


def test_words_ended_by_punctuation_keep_their_script():
    assert words("어린 왕자, prince·2") == [
        Word("어린", True),
        Word("왕자", True),
        Word("prince", False),
        Word("2", False),
    ]


@pytest.mark.parametrize(
    "char",
    [
        "\uac00",  # the first syllable
        "\ud7a3",  # the last
        "\u1100",  # the first conjoining jamo
        "\u11ff",  # the last
        "\ua960",  # the first of extended-A
        "\ud7b0",  # the first of extended-B
    ],
)
def test_the_edges_of_the_hangul_blocks_are_hangul(char):
    assert words("a" + char) == [Word("a", False), Word(char, True)]


@pytest.mark.parametrize("char", ["\u10ff", "\u1200"])  # Georgian, Ethiopic: letters either side
def test_the_letters_next_to_the_hangul_jamo_are_not(char):
    assert words("a" + char) == [Word("a" + char, False)]


def test_compatibility_jamo_fold_into_conjoining_jamo_and_syllables():
    assert words("ㄱ") == [Word("\u1100", True)]
    assert words("ㄱㅏ") == [Word("가", True)]


@pytest.mark.parametrize("syllable", ["가", "힣"])  # the first and last: NFD would split them
def test_fold_keeps_the_edge_syllables_whole(syllable):
    assert fold(syllable) == syllable


@pytest.mark.parametrize(
    ("query", "word", "pattern"),
    [
        ("a little", Word("little", False), " little"),
        ("little a", Word("little", False), " little"),
        ("왕자님 a", Word("왕자님", True), "왕자"),  # two syllables: a substring
        ("왕 a", Word("왕", True), " 왕"),  # one: at a word start
        ("supercalifragilistic", Word("supercalifragilistic", False), " supercalif"),
    ],
)
def test_the_key_word_and_the_pattern_of_its_term(query, word, pattern):
    assert key_word(query_words(query)) == word
    assert term_pattern(query_words(query)) == pattern
