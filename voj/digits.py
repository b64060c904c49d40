"""The one check for a number that arrives as text (a header, a query parameter)."""

# 2**63 has 19 digits: no count of bytes, seconds or items voj reads is longer. The bound comes
# before any conversion: int() refuses text of more than 4,300 digits with a ValueError (a 500
# where a 400 or 403 was meant), and converting long text costs time quadratic in its length.
MAX_DIGITS = 19


def is_ascii_digits(value: str, *, max_digits: int = MAX_DIGITS) -> bool:
    """True for 1 to ``max_digits`` of "0".."9" only. str.isdigit() alone also accepts "²" and
    other Unicode digits, which int() then refuses."""
    return 0 < len(value) <= max_digits and value.isascii() and value.isdigit()
