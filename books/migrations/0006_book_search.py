"""Search: title and author kept folded into words (books/search_text.py), so a search is a few
LIKEs over two columns (books/repository/sql.py). The data step fills them for every existing
book; backwards the columns go."""

from django.db import migrations, models

from books.search_text import representation


def fill_search_columns(apps, schema_editor):
    book_model = apps.get_model("books", "BookRecord")
    for book in book_model.objects.only("id", "title", "author").iterator(chunk_size=500):
        book_model.objects.filter(pk=book.pk).update(
            search_title=representation(book.title), search_author=representation(book.author)
        )


class Migration(migrations.Migration):
    dependencies = [
        ("books", "0005_book_cover"),
    ]

    operations = [
        migrations.AddField(
            model_name="bookrecord",
            name="search_title",
            field=models.TextField(blank=True, default=""),
        ),
        migrations.AddField(
            model_name="bookrecord",
            name="search_author",
            field=models.TextField(blank=True, default=""),
        ),
        migrations.RunPython(fill_search_columns, migrations.RunPython.noop, elidable=True),
    ]
