"""The switch's task, the part that runs inside the function (voj/opsdb/switch_task.py): what it
answers when it cannot do its work. Its copies, both ways, run in the whole switch through the
packaged handler (tests/deploy/test_opsdb_switch.py): Django's test case refuses connections to
an alias made during a test, which is what the task makes."""

from __future__ import annotations

from voj.opsdb.switch_task import task

SECRETS = "/voj/task-test/"


def test_bad_requests_and_failures_are_answers(aws, settings):
    settings.VOJ_SECRETS = SECRETS
    assert "error" in task({"action": "check", "to": "mysql"})
    assert "error" in task({"action": "explode", "to": "postgres"})
    # No staged database: said, not raised.
    answer = task({"action": "copy", "to": "postgres"})
    assert "DATABASE_URL_NEXT" in answer["error"]
