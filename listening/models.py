"""ORM tables for the SQL backend of what listeners keep (the embedded default). Production keeps
them in DynamoDB; nothing outside listening/repository/sql.py uses these models.

Users and books are referred to by id, without foreign keys: the catalogue may live in DynamoDB
while these rows do not, and deletions reach here through ``book_forget``/``user_forget``."""

from django.db import models


class ProgressRecord(models.Model):
    """One listener's progress in one book: the newest report (``latest_*``) and the furthest
    one (``furthest_*``)."""

    # Indexed by the unique (user_id, book_id) constraint, whose first column it is.
    user_id = models.BigIntegerField()
    # book_forget deletes every listener's progress in a book.
    book_id = models.CharField(max_length=36, db_index=True)
    latest_chapter_id = models.CharField(max_length=36)
    latest_chapter_number = models.PositiveIntegerField()
    latest_position_seconds = models.FloatField()
    latest_updated_at = models.DateTimeField()
    latest_device = models.CharField(max_length=100)
    furthest_chapter_id = models.CharField(max_length=36)
    furthest_chapter_number = models.PositiveIntegerField()
    furthest_position_seconds = models.FloatField()
    furthest_updated_at = models.DateTimeField()
    furthest_device = models.CharField(max_length=100)
    finished = models.BooleanField(default=False)

    class Meta:
        db_table = "listening_progress"
        constraints = [
            models.UniqueConstraint(fields=["user_id", "book_id"], name="listening_progress_one")
        ]
        indexes = [
            # The continue-listening shelf: newest latest first.
            models.Index(
                fields=["user_id", "-latest_updated_at", "book_id"], name="listening_shelf"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.book_id}"


class BookmarkRecord(models.Model):
    id = models.CharField(primary_key=True, max_length=36)
    user_id = models.BigIntegerField()
    # book_forget deletes every listener's bookmarks in a book.
    book_id = models.CharField(max_length=36, db_index=True)
    chapter_id = models.CharField(max_length=36)
    chapter_number = models.PositiveIntegerField()
    position_seconds = models.FloatField()
    note = models.TextField(blank=True, default="")
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    version = models.PositiveIntegerField(default=1)

    class Meta:
        db_table = "listening_bookmark"
        indexes = [
            # A book's bookmarks in book order (and their count, for the per-book limit).
            models.Index(
                fields=["user_id", "book_id", "chapter_number", "position_seconds", "id"],
                name="listening_bookmark_in_book",
            ),
            # All the listener's bookmarks, newest first.
            models.Index(fields=["user_id", "-created_at", "-id"], name="listening_bookmark_new"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.book_id} at {self.chapter_number}/{self.position_seconds}"


class BookmarkLockRecord(models.Model):
    """One row per listener and book with bookmarks, taken FOR UPDATE by each bookmark create in
    that book: counting the bookmarks and adding one is then one step, so two concurrent
    creates cannot both take the last free place (on PostgreSQL; SQLite's IMMEDIATE
    transactions already queue writers). An absent bookmark cannot be locked; this row can."""

    user_id = models.BigIntegerField()
    book_id = models.CharField(max_length=36, db_index=True)

    class Meta:
        db_table = "listening_bookmark_lock"
        constraints = [
            models.UniqueConstraint(
                fields=["user_id", "book_id"], name="listening_bookmark_lock_one"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.book_id}"
