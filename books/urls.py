from django.urls import path

from books import api, converters  # noqa: F401 (registers <id:...>)

urlpatterns = [
    path("books", api.BooksApi.as_view(), name="books"),
    path("books/<id:book_id>", api.BookDetailApi.as_view(), name="book"),
    path("books/<id:book_id>/publish", api.BookPublishApi.as_view(), name="book-publish"),
    path("books/<id:book_id>/unpublish", api.BookUnpublishApi.as_view(), name="book-unpublish"),
    path("books/<id:book_id>/cover", api.BookCoverApi.as_view(), name="book-cover"),
    path(
        "books/<id:book_id>/cover/complete",
        api.BookCoverCompleteApi.as_view(),
        name="book-cover-complete",
    ),
    path("books/<id:book_id>/chapters", api.ChaptersApi.as_view(), name="chapters"),
    path(
        "books/<id:book_id>/chapters/<id:chapter_id>",
        api.ChapterDetailApi.as_view(),
        name="chapter",
    ),
    path(
        "books/<id:book_id>/chapters/<id:chapter_id>/complete",
        api.ChapterCompleteApi.as_view(),
        name="chapter-complete",
    ),
    path(
        "books/<id:book_id>/chapters/<id:chapter_id>/upload",
        api.ChapterUploadApi.as_view(),
        name="chapter-upload",
    ),
    path(
        "books/<id:book_id>/chapters/<id:chapter_id>/stream-url",
        api.ChapterStreamUrlApi.as_view(),
        name="chapter-stream-url",
    ),
    path("audio/<id:chapter_id>/stream-url", api.StreamUrlApi.as_view(), name="stream-url"),
]
