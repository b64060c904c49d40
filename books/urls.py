from django.urls import path

from books import api

urlpatterns = [
    path("books", api.BooksApi.as_view(), name="books"),
    path("books/<str:book_id>", api.BookDetailApi.as_view(), name="book"),
    path("books/<str:book_id>/chapters", api.ChaptersApi.as_view(), name="chapters"),
    path(
        "books/<str:book_id>/chapters/<str:chapter_id>",
        api.ChapterDetailApi.as_view(),
        name="chapter",
    ),
    path(
        "books/<str:book_id>/chapters/<str:chapter_id>/complete",
        api.ChapterCompleteApi.as_view(),
        name="chapter-complete",
    ),
    path(
        "books/<str:book_id>/chapters/<str:chapter_id>/upload",
        api.ChapterUploadApi.as_view(),
        name="chapter-upload",
    ),
    path("audio/<str:chapter_id>/stream-url", api.StreamUrlApi.as_view(), name="stream-url"),
]
