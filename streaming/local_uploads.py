"""The embedded default's stand-in for S3's POST upload: verify the form, stream to disk."""

from __future__ import annotations

from django.conf import settings
from django.core.files.uploadedfile import TemporaryUploadedFile
from django.core.files.uploadhandler import StopUpload, TemporaryFileUploadHandler
from django.http import HttpRequest
from django.http.multipartparser import MultiPartParserError

from voj.digits import is_ascii_digits

from .local_store import LocalObjectStore
from .policy import SIGNATURE_FIELD, PolicyError, policy_check_fields, policy_decode

# Room for the form fields and multipart framing around a file at the limit.
_ENVELOPE_BYTES = 64 * 1024


class UploadRejected(Exception):
    def __init__(self, status: int, code: str, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail


class CappedUploadHandler(TemporaryFileUploadHandler):
    """Streams the file to a temporary file and stops reading past the limit."""

    def __init__(self, request: HttpRequest, limit: int) -> None:
        super().__init__(request)
        self.limit = limit
        self.received = 0
        self.exceeded = False

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        self.received += len(raw_data)
        if self.received > self.limit:
            self.exceeded = True
            raise StopUpload(connection_reset=False)
        return super().receive_data_chunk(raw_data, start)


def local_upload_receive(request: HttpRequest, store: LocalObjectStore) -> str:
    """Verify the signed form and store the file in ``store``; return the object key."""
    limit = settings.VOJ_MAX_UPLOAD_BYTES
    declared = request.META.get("CONTENT_LENGTH") or "0"
    if not is_ascii_digits(declared):  # "abc", "1e3", "²": never int()
        raise UploadRejected(400, "InvalidArgument", "Content-Length must be a number of bytes")
    content_length = int(declared)
    if content_length > limit + _ENVELOPE_BYTES:
        raise UploadRejected(400, "EntityTooLarge", f"the file must be at most {limit} bytes")
    if not (request.content_type or "").startswith("multipart/form-data"):
        raise UploadRejected(400, "InvalidRequest", "send multipart/form-data: fields, then file")

    handler = CappedUploadHandler(request, limit)
    request.upload_handlers = [handler]
    try:
        fields = {name: request.POST[name] for name in request.POST}
        upload = request.FILES.get("file")
    except MultiPartParserError as error:
        raise UploadRejected(400, "MalformedPOSTRequest", f"malformed form: {error}") from None
    try:
        if handler.exceeded:
            raise UploadRejected(400, "EntityTooLarge", f"the file must be at most {limit} bytes")
        # CappedUploadHandler writes every file it accepts to a temporary file.
        if not isinstance(upload, TemporaryUploadedFile):
            raise UploadRejected(400, "InvalidArgument", "the form has no 'file' field")
        try:
            document = policy_decode(fields.get("policy", ""), fields.get(SIGNATURE_FIELD, ""))
            policy_check_fields(document, fields, upload.size or 0)
        except PolicyError as error:
            status = 403 if error.code in {"AccessDenied", "SignatureDoesNotMatch"} else 400
            raise UploadRejected(status, error.code, error.detail) from None
        key = fields["key"]
        store.put_file(
            key,
            upload.temporary_file_path(),
            content_type=fields["Content-Type"],
            metadata={},
        )
        return key
    finally:
        if upload is not None:
            upload.close()
