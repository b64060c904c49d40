"""The listener page (/listen/): one HTML shell; everything it shows it fetches from the API with
its own script (listening/static/listening/listen.js), as any listening app would."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe


@require_safe
def listen_page(request: HttpRequest) -> HttpResponse:
    response = render(request, "listening/listen.html")
    # The shell names its script by a hashed file name in production: a cached shell could
    # name a script a later release no longer has.
    response["Cache-Control"] = "no-cache"
    return response
