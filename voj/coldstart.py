"""Garbage collection around a Lambda cold start.

What a cold start builds (modules, classes, settings, URL patterns, clients) lives as long as
the process, yet each collection walks all of it again: a full collection in a warm voj process
took about 65 ms, paid by whichever request triggered it. On Lambda, collection now waits until
the first request has been answered; then ``gc.freeze()`` moves everything start-up made into
the permanent generation, so later collections walk only what requests allocate (a full one
takes about 1 ms), and collection resumes. This is the sequence the gc module documents for
long-lived start-up state: disable early, freeze, enable. The cold start itself is about 9 ms
shorter (docs/performance.md).

Outside Lambda (tests, management commands, the prod-like local mode) nothing changes: a long
command that never serves a request must not run without collection.
"""

from __future__ import annotations

import gc
import os
from typing import Any

from django.core.signals import request_finished

_DISPATCH_UID = "voj.coldstart.resume_collection"


def pause_collection() -> None:
    """On Lambda, hold automatic collection until the first request has finished."""
    if not os.environ.get("AWS_LAMBDA_FUNCTION_NAME") or not gc.isenabled():
        return
    gc.disable()
    request_finished.connect(resume_collection, dispatch_uid=_DISPATCH_UID)


def resume_collection(**_: Any) -> None:
    request_finished.disconnect(dispatch_uid=_DISPATCH_UID)
    gc.freeze()
    gc.enable()
