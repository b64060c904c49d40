"""Static files on Lambda: WhiteNoise, scanning the collected files only when first needed."""

from __future__ import annotations

import threading
from typing import Any

from django.conf import settings as django_settings
from django.http import HttpRequest, HttpResponse
from whitenoise.middleware import WhiteNoiseMiddleware


class LazyWhiteNoiseMiddleware(WhiteNoiseMiddleware):
    """WhiteNoise stats every collected file when it starts (about 600 for the admin). Here that
    happens on the first /static/ request instead, so an API cold start never pays for the
    operator console's assets."""

    def __init__(self, get_response: Any = None, settings: Any = django_settings) -> None:
        self._pending: list[tuple[Any, Any]] = []
        self._scanned = False
        self._scan_lock = threading.Lock()
        super().__init__(get_response, settings)

    def add_files(self, root: Any, prefix: Any = None) -> None:
        if not self._scanned:
            self._pending.append((root, prefix))
            return
        super().add_files(root, prefix)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not self._scanned and request.path_info.startswith(self.static_prefix):
            with self._scan_lock:
                if not self._scanned:
                    for root, prefix in self._pending:
                        super().add_files(root, prefix)
                    # Only now: a concurrent request (runserver is threaded) that saw the flag
                    # set while the scan ran would find no file and answer 404.
                    self._scanned = True
        return super().__call__(request)
