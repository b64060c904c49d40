"""Books gain a status (draft or published) and the time they were published.

New books are drafts. The books that exist when this ships were all listed to listeners, and
those with a ready chapter could be played: hiding them would take away what listeners had. So
a book with at least one ready chapter is published, the others (nothing to play yet) stay
drafts, the state an editor would have to publish from anyway.

``published_at`` of those books is their ``created_at``, not the time of the migration: they
were visible to listeners from the moment they were created, so that is the true answer to
"since when can listeners see it". It also makes the rule deterministic: the DynamoDB backfill
(``manage.py backfill_publishing``) applies the same rule whenever it runs and gives the same
answer, and running either again changes nothing.
"""

from django.db import migrations, models
from django.db.models import F


def publish_playable_books(apps, schema_editor):
    """Publish every draft that has a ready chapter, as published since its creation."""
    book_model = apps.get_model("books", "BookRecord")
    chapter_model = apps.get_model("books", "ChapterRecord")
    playable = chapter_model.objects.filter(status="ready").values("book_id")
    book_model.objects.filter(pk__in=playable, status="draft").update(
        status="published", published_at=F("created_at")
    )


class Migration(migrations.Migration):
    dependencies = [
        ("books", "0002_chapter_object_etag"),
    ]

    operations = [
        migrations.AddField(
            model_name="bookrecord",
            name="status",
            field=models.CharField(default="draft", max_length=10),
        ),
        migrations.AddField(
            model_name="bookrecord",
            name="published_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddIndex(
            model_name="bookrecord",
            index=models.Index(
                fields=["status", "-created_at", "-id"], name="books_book_status"
            ),
        ),
        # Backwards, the columns go: nothing to undo.
        migrations.RunPython(publish_playable_books, migrations.RunPython.noop, elidable=True),
    ]
