"""The request log line names who asked: the API's token user as well as the console's."""

from __future__ import annotations

import logging

from tests.helpers import playable_chapter


def _logged(caplog, call) -> dict:
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="voj.requests"):
        response = call()
    records = [r for r in caplog.records if r.name == "voj.requests"]
    assert len(records) == 1
    return {"status": response.status_code, "user": records[0].user}


def test_the_log_names_the_token_s_user(backend, as_editor, as_listener, listener, caplog):
    chapter = playable_chapter(as_editor)
    assert _logged(caplog, lambda: as_editor.get("/api/v1/auth/me")) == {
        "status": 200,
        "user": "editor",
    }
    # stream-url checks the token without the user's row: the log has the id it carries.
    stream = f"/api/v1/audio/{chapter['id']}/stream-url"
    assert _logged(caplog, lambda: as_listener.get(stream)) == {
        "status": 200,
        "user": f"id:{listener.pk}",
    }
    assert _logged(caplog, lambda: as_listener.client.get(stream))["user"] is None
