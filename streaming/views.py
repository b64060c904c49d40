"""Local endpoints of the embedded default: the upload target, Range serving and covers.

They serve only for the local store (streaming/stores.py). With the S3 store uploads go to S3
and playback to CloudFront or S3, and no grant or URL points here, so these answer 404 rather
than pass audio through Lambda.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.utils.http import http_date, parse_http_date_safe
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from voj.errors import api_not_found, json_error

from .cover_images import COVER_CACHE_CONTROL
from .keys import COVER_KEY, MEDIA_KEY
from .local_uploads import UploadRejected, local_upload_receive
from .signing import local_stream_signature_valid
from .stores import local_object_store


@csrf_exempt  # authorised by the signed policy, like S3's POST; no cookie is involved
@require_http_methods(["POST"])
def upload_receive(request: HttpRequest) -> HttpResponse:
    store = local_object_store()
    if store is None:
        return api_not_found(request)
    try:
        local_upload_receive(request, store)
    except UploadRejected as rejected:
        return json_error(rejected.status, rejected.detail, rejected.code)
    return HttpResponse(status=204)


def _if_range_allows(request: HttpRequest, etag: str, last_modified: float) -> bool:
    condition = request.headers.get("If-Range")
    if not condition:
        return True
    if condition.startswith(('"', "W/")):
        return condition == etag  # strong comparison only
    when = parse_http_date_safe(condition)
    return when is not None and int(last_modified) <= when


@require_http_methods(["GET", "HEAD"])
def stream(request: HttpRequest, key: str) -> HttpResponseBase:
    store = local_object_store()
    if store is None:
        return api_not_found(request)
    from .ranges import RangeNotSatisfiable, parse_range  # noqa: PLC0415 - 1.5-5 ms cold, local store only

    if not MEDIA_KEY.fullmatch(key) or not local_stream_signature_valid(
        key, request.GET.get("expires"), request.GET.get("signature")
    ):
        return json_error(403, "The stream URL is invalid or has expired.", "invalid_signature")
    info = store.head(key)
    if info is None:
        return json_error(404, "Not found.", "not_found")

    size = info.size
    common = {
        "Accept-Ranges": "bytes",
        "ETag": info.etag,
        "Last-Modified": http_date(info.last_modified.timestamp()),
        "Cache-Control": "private, max-age=3600",
    }
    if request.headers.get("If-None-Match") == info.etag:
        response: HttpResponseBase = HttpResponse(status=304)
        for name, value in common.items():
            response[name] = value
        return response
    try:
        byte_range = (
            parse_range(request.headers.get("Range"), size)
            if _if_range_allows(request, info.etag, info.last_modified.timestamp())
            else None
        )
    except RangeNotSatisfiable as error:
        response = json_error(416, str(error), error.code)
        response["Content-Range"] = f"bytes */{size}"
        response["Accept-Ranges"] = "bytes"
        return response

    start, length = (0, size) if byte_range is None else (byte_range.start, byte_range.length)
    body = iter(()) if request.method == "HEAD" else store.iter_range(key, start, length)
    response = StreamingHttpResponse(body, status=200 if byte_range is None else 206)
    response["Content-Type"] = info.content_type
    response["Content-Length"] = str(length)
    for name, value in common.items():
        response[name] = value
    if byte_range is not None:
        response["Content-Range"] = byte_range.content_range(size)
    return response


@csrf_exempt  # nothing to protect: a write is refused by method (405), not by CSRF
@require_http_methods(["GET", "HEAD"])
def cover(request: HttpRequest, key: str) -> HttpResponseBase:
    """A cover, unsigned and cacheable for a year, as the CDN's covers/ behaviour serves them
    in production: no Authorization, no signature. Only keys shaped like a cover's (so never a
    path out of covers/, nor audio), and only for the local store."""
    store = local_object_store()
    if store is None:
        return api_not_found(request)
    key = "covers/" + key
    info = store.head(key) if COVER_KEY.fullmatch(key) else None
    if info is None:
        return json_error(404, "Not found.", "not_found")
    headers = {
        "ETag": info.etag,
        "Last-Modified": http_date(info.last_modified.timestamp()),
        "Cache-Control": store.cache_control(key) or COVER_CACHE_CONTROL,
        "Access-Control-Allow-Origin": "*",
    }
    response: HttpResponseBase
    if request.headers.get("If-None-Match") == info.etag:
        response = HttpResponse(status=304)
    else:
        body = iter(()) if request.method == "HEAD" else store.iter_range(key, 0, info.size)
        response = StreamingHttpResponse(body, content_type=info.content_type)
        response["Content-Length"] = str(info.size)
    for name, value in headers.items():
        response[name] = value
    return response
