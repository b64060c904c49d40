"""GET /api/v1/books?q=: search titles and authors, on every data backend."""

from __future__ import annotations

import unicodedata

import pytest

from tests.helpers import book_publish, ready_chapter


def book(api, title: str, author: str = "Author") -> dict:
    response = api.post("/api/v1/books", {"title": title, "author": author})
    assert response.status_code == 201, response.content
    return response.json()


def published(api, title: str, author: str = "Author") -> dict:
    created = book(api, title, author)
    ready_chapter(api, created)
    return book_publish(api, created["id"])


def found(api, q: str, **params) -> list[str]:
    response = api.get("/api/v1/books", data={"q": q, **params})
    assert response.status_code == 200, response.content
    return [b["title"] for b in response.json()["results"]]


def test_korean_and_latin_examples(backend, as_editor, as_listener):
    published(as_editor, "어린 왕자", "앙투안 드 생텍쥐페리")
    published(as_editor, "The Little Prince", "Antoine de Saint-Exupéry")
    published(as_editor, "Crème brûlée", "Chef")
    assert found(as_listener, "왕자") == ["어린 왕자"]
    assert found(as_listener, "린왕") == []
    assert found(as_listener, unicodedata.normalize("NFD", "어린 왕자")) == ["어린 왕자"]
    assert found(as_listener, "PRIN") == ["The Little Prince"]
    assert found(as_listener, "exupery") == ["The Little Prince"]
    assert found(as_listener, "creme") == ["Crème brûlée"]
    assert found(as_listener, "nowhere") == []


def test_visibility_follows_listings(backend, as_editor, as_other_editor, as_listener, as_operator):
    book(as_editor, "Secret draft")
    published(as_other_editor, "Open secret")
    assert found(as_listener, "secret") == ["Open secret"]
    assert found(as_editor, "secret") == ["Open secret", "Secret draft"]
    assert found(as_other_editor, "secret") == ["Open secret"]
    assert found(as_operator, "secret") == ["Open secret", "Secret draft"]
    assert found(as_listener, "draft") == []


def test_rename_unpublish_and_delete_stop_matching_at_once(backend, as_editor, as_listener):
    shown = published(as_editor, "Moby Dick")
    url = f"/api/v1/books/{shown['id']}"
    assert found(as_listener, "moby") == ["Moby Dick"]
    assert as_editor.patch(url, {"title": "White Whale"}).status_code == 200
    assert found(as_listener, "moby") == []
    assert found(as_listener, "whale") == ["White Whale"]
    assert as_editor.post(url + "/unpublish").status_code == 200
    assert found(as_listener, "whale") == []
    assert found(as_editor, "whale") == ["White Whale"]
    assert as_editor.delete(url).status_code == 204
    assert found(as_editor, "whale") == []


def test_titles_first_then_newest(backend, as_editor):
    book(as_editor, "Old prince")
    book(as_editor, "Something", "Prince Rogers")
    book(as_editor, "New prince")
    assert found(as_editor, "prince") == ["New prince", "Old prince", "Something"]


def test_pages_follow_without_duplicates(backend, as_editor):
    for n in range(5):
        book(as_editor, f"Prince {n}")
    titles: list[str] = []
    response = as_editor.get("/api/v1/books", data={"q": "prince", "limit": 2})
    while True:
        assert response.status_code == 200
        titles += [b["title"] for b in response.json()["results"]]
        following = response.json()["next"]
        if following is None:
            break
        assert "q=prince" in following
        response = as_editor.get(following)
    assert titles == [f"Prince {n}" for n in range(4, -1, -1)]


def test_cursors_belong_to_their_query(backend, as_editor):
    for n in range(3):
        book(as_editor, f"Prince {n}")
    searched = as_editor.get("/api/v1/books", data={"q": "prince", "limit": 1}).json()["next"]
    listed = as_editor.get("/api/v1/books", data={"limit": 1}).json()["next"]
    search_cursor = searched.split("cursor=")[1]
    list_cursor = listed.split("cursor=")[1]
    for params in (
        {"q": "prince", "cursor": list_cursor},
        {"q": "prin", "cursor": search_cursor},
        {"cursor": search_cursor},
        {"q": "prince", "cursor": "forged"},
    ):
        response = as_editor.get("/api/v1/books?" + "&".join(f"{k}={v}" for k, v in params.items()))
        assert (response.status_code, response.json()["code"]) == (400, "invalid_cursor"), params


@pytest.mark.parametrize(
    "q",
    [
        "",
        "   ",
        "x" * 101,
        "!!!",
        "%",
        "_",
        "\x00abc",
        "가" * 101,
        unicodedata.normalize("NFD", "왕" * 34),
    ],
)
def test_bad_queries_are_400_field_errors(backend, as_listener, q):
    response = as_listener.get("/api/v1/books", data={"q": q})
    assert response.status_code == 400, response.content
    assert "q" in response.json()


def test_hostile_queries_that_are_fine(backend, as_editor, as_listener):
    published(as_editor, "100% cotton_wool")
    assert found(as_listener, "가" * 100) == []
    assert found(as_listener, "%cotton") == ["100% cotton_wool"]
    assert found(as_listener, "c%n") == []
    assert found(as_listener, "\x07cotton\x1b\t") == ["100% cotton_wool"]
    # Decomposed, a syllable is two or three characters: 33 of them fit in 100.
    assert found(as_listener, unicodedata.normalize("NFD", "왕" * 33)) == []
    assert found(as_listener, "cotton", limit=100) == ["100% cotton_wool"]


def test_odd_parameters(backend, as_editor, as_listener):
    published(as_editor, "Moby Dick")
    # The last of repeated parameters counts; unknown ones are ignored, as in listings.
    assert [
        b["title"] for b in as_listener.get("/api/v1/books?q=zzz&q=moby").json()["results"]
    ] == ["Moby Dick"]
    assert as_listener.get("/api/v1/books?q[]=zzz").json()["results"][0]["title"] == "Moby Dick"
    assert as_listener.get("/api/v1/books?q=moby&limit=0").status_code == 400


@pytest.mark.parametrize(
    ("raw_q", "titles"),
    [
        ("%ED%A0%80", None),  # a lone surrogate, UTF-8 encoded: not UTF-8 at all
        ("%ED%A0%80cotton", ["Cotton .* (wool)"]),
        ("%FF%FE%00", None),
        ("%5Cud800", []),  # the JSON escape, as text: "ud800" is a word
        (".*", None),
        ("(wool", ["Cotton .* (wool)"]),
        ("[a-z]%2B", []),  # the words "a" and "z"
        ("%5C", None),
        ("%27%20OR%201%3D1%20--", []),
        ("wool%27%3B%20DROP%20TABLE%20books_book%3B--", []),
        ("%22%20OR%20%22%22%3D%22", []),
        ("cotton%25%27%20OR%20%27%25%27%3D%27", []),
        ("%2A", None),
        ("%E2%80%AE", None),  # a bidi override alone
    ],
)
def test_regex_sql_and_broken_encodings_are_text(backend, as_editor, as_listener, raw_q, titles):
    """Query strings as a client may send them: a 400 on ``q`` when nothing searchable is left,
    otherwise plain text matched as text; no match of everything, never a 500."""
    published(as_editor, "Cotton .* (wool)")
    published(as_editor, "Other")
    response = as_listener.client.get(f"/api/v1/books?q={raw_q}", **as_listener.headers)
    if titles is None:
        assert response.status_code == 400, response.content
        assert "q" in response.json()
    else:
        assert response.status_code == 200, response.content
        assert [b["title"] for b in response.json()["results"]] == titles
