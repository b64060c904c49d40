from django.urls import path

from books import converters  # noqa: F401 (registers <id:...>)
from listening import api

urlpatterns = [
    path("me/progress", api.ProgressShelfApi.as_view(), name="progress-shelf"),
    path("me/progress/batch", api.ProgressBatchApi.as_view(), name="progress-batch"),
    path("me/progress/<id:book_id>", api.ProgressApi.as_view(), name="progress"),
    path("me/bookmarks", api.BookmarksApi.as_view(), name="bookmarks"),
    path("me/bookmarks/<id:bookmark_id>", api.BookmarkDetailApi.as_view(), name="bookmark"),
]
