"""The one check for a number that arrives as text (a header, a query parameter)."""


def is_ascii_digits(value: str) -> bool:
    """True for "0".."9" only. str.isdigit() alone also accepts "²" and other Unicode digits,
    which int() then refuses with a ValueError (a 500 where a 400 or 403 was meant)."""
    return value.isascii() and value.isdigit()
