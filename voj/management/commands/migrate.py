"""Django's migrate, finished by publishing the operator database (voj.opsdb) and ending with
one clear line when the bucket cannot be used, not a traceback or an error printed at exit."""

from __future__ import annotations

from typing import Any

from django.core.management import CommandError
from django.core.management.commands.migrate import Command as MigrateCommand
from django.db import connections

from voj.opsdb.base import DatabaseWrapper as OperatorDatabase
from voj.opsdb.sync import OperatorDatabaseConflict, OperatorDatabaseUnavailable


class Command(MigrateCommand):
    def execute(self, *args: Any, **options: Any) -> Any:
        try:
            output = super().execute(*args, **options)
            # Published here, not at the connection's close or the process's exit, where a
            # failure could no longer change the exit status.
            connection = connections[options.get("database") or "default"]
            if isinstance(connection, OperatorDatabase):
                connection.publish()
        except OperatorDatabaseUnavailable as error:
            raise CommandError(str(error)) from None
        except OperatorDatabaseConflict:
            raise CommandError(
                "another instance changed the operator database while migrating; run migrate again"
            ) from None
        return output
