"""A console session's data (voj/security/sessions.py) is longer than the 100 characters an
account's claim needed."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("voj", "0002_security_record_value"),
    ]

    operations = [
        migrations.AlterField(
            model_name="securityrecord",
            name="value",
            field=models.TextField(blank=True, default=""),
        ),
    ]
