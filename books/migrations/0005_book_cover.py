"""Books have a cover: the key of the listener-size image (empty without one) and the key of a
cover upload granted but not yet completed (empty when none is pending). Existing books have
neither."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("books", "0004_book_ready_count"),
    ]

    operations = [
        migrations.AddField(
            model_name="bookrecord",
            name="cover_key",
            field=models.CharField(blank=True, default="", max_length=200),
        ),
        migrations.AddField(
            model_name="bookrecord",
            name="cover_upload_key",
            field=models.CharField(blank=True, default="", max_length=200),
        ),
    ]
