"""Books count their ready chapters too: a listener is told how many chapters they can play,
never how many the book has (pending and failed ones are hidden from them).

The data step counts the ready chapters of every existing book; backwards the column goes.
"""

from django.db import migrations, models
from django.db.models import Count, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce


def count_ready_chapters(apps, schema_editor):
    book_model = apps.get_model("books", "BookRecord")
    chapter_model = apps.get_model("books", "ChapterRecord")
    ready = (
        chapter_model.objects.filter(book_id=OuterRef("pk"))
        .values("book_id")
        .annotate(n=Count("pk", filter=Q(status="ready")))
        .values("n")
    )
    book_model.objects.update(ready_count=Coalesce(Subquery(ready), 0))


class Migration(migrations.Migration):
    dependencies = [
        ("books", "0003_book_publishing"),
    ]

    operations = [
        migrations.AddField(
            model_name="bookrecord",
            name="ready_count",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.RunPython(count_ready_chapters, migrations.RunPython.noop, elidable=True),
    ]
