"""ORM tables for the SQL repository backend (the embedded default). Production keeps the
catalogue in DynamoDB; nothing outside books/repository/sql.py uses these models."""

from django.db import models


class BookRecord(models.Model):
    id = models.CharField(primary_key=True, max_length=36)
    title = models.CharField(max_length=300)
    author = models.CharField(max_length=300)
    description = models.TextField(blank=True, default="")
    language = models.CharField(max_length=35, blank=True, default="")
    owner = models.BigIntegerField(db_index=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    chapter_count = models.PositiveIntegerField(default=0)
    ready_count = models.PositiveIntegerField(default=0)
    version = models.PositiveIntegerField(default=1)
    status = models.CharField(max_length=10, default="draft")
    published_at = models.DateTimeField(null=True, blank=True)
    cover_key = models.CharField(max_length=200, blank=True, default="")
    cover_upload_key = models.CharField(max_length=200, blank=True, default="")
    # Title and author as a search reads them (books/search_text.py ``representation``): each
    # folded word after a space, so a word prefix and a Hangul substring are plain LIKEs.
    search_title = models.TextField(blank=True, default="")
    search_author = models.TextField(blank=True, default="")

    class Meta:
        db_table = "books_book"
        indexes = [
            models.Index(fields=["-created_at", "-id"], name="books_book_newest"),
            # The listener's list: published books, newest first.
            models.Index(fields=["status", "-created_at", "-id"], name="books_book_status"),
        ]

    def __str__(self) -> str:
        return self.title


class ChapterRecord(models.Model):
    id = models.CharField(primary_key=True, max_length=36)
    book = models.ForeignKey(BookRecord, on_delete=models.CASCADE, related_name="chapters")
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=300)
    status = models.CharField(max_length=20)
    failure_reason = models.TextField(blank=True, default="")
    object_key = models.CharField(max_length=500, blank=True, default="")
    original_filename = models.CharField(max_length=255, blank=True, default="")
    content_type = models.CharField(max_length=100, blank=True, default="")
    size_bytes = models.BigIntegerField(default=0)
    duration_seconds = models.FloatField(null=True, blank=True)
    faststart = models.BooleanField(null=True, blank=True)
    revision = models.CharField(max_length=40, blank=True, default="")
    object_etag = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    version = models.PositiveIntegerField(default=1)

    class Meta:
        db_table = "books_chapter"
        constraints = [
            models.UniqueConstraint(fields=["book", "number"], name="books_chapter_unique_number")
        ]
        indexes = [
            models.Index(fields=["status", "-updated_at", "-id"], name="books_chapter_status")
        ]

    def __str__(self) -> str:
        return f"{self.book_id} #{self.number}"
