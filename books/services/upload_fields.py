"""What an upload grant is asked for (a file's name, type and size), checked the same way for a
chapter's audio and a book's cover, each with its own rules."""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import ValidationError

from streaming.keys import clean_filename


def upload_fields_validate(
    *,
    filename: str,
    content_type: str,
    size_bytes: int,
    name_allowed: Callable[[str], bool],
    content_types: tuple[str, ...],
    limit: int,
    example: str,
    name_rule: str,
) -> str:
    """The cleaned file name; ValidationError with every field's problem, in DRF's shape."""
    errors: dict[str, list[str]] = {}
    try:
        filename = clean_filename(filename)
    except ValueError:
        errors["filename"] = [f"Give the file's name, for example {example}."]
    else:
        if not name_allowed(filename):
            errors["filename"] = [name_rule]
    if content_type not in content_types:
        errors["content_type"] = [f"Must be one of {', '.join(content_types)}."]
    if not 1 <= size_bytes <= limit:
        errors["size_bytes"] = [f"Must be between 1 and {limit} bytes."]
    if errors:
        raise ValidationError(errors)
    return filename
