"""Use cases of what listeners keep. Views and receivers call these; these hold the rules and
call the listening repository and, for what a listener may see and play, the catalogue. One
module for each thing served:

- ``progress``: a listener's progress in a book, and the continue-listening shelf;
- ``batch``: reports uploaded together after offline listening;
- ``bookmarks``: the places a listener marked;
- ``forget``: what goes with a deleted book or account;
- ``catalogue``: what they read from the catalogue (visible books, playable chapters).

Callers import from here (``from listening import services``).
"""

from listening.services.batch import progress_record_batch
from listening.services.bookmarks import (
    bookmark_create,
    bookmark_delete,
    bookmark_list,
    bookmark_update,
)
from listening.services.forget import book_forget, user_forget
from listening.services.progress import (
    FUTURE_ALLOWANCE,
    ProgressReport,
    ShelfItem,
    progress_delete,
    progress_get,
    progress_record,
    progress_shelf,
)

__all__ = [
    "FUTURE_ALLOWANCE",
    "ProgressReport",
    "ShelfItem",
    "book_forget",
    "bookmark_create",
    "bookmark_delete",
    "bookmark_list",
    "bookmark_update",
    "progress_delete",
    "progress_get",
    "progress_record",
    "progress_record_batch",
    "progress_shelf",
    "user_forget",
]
