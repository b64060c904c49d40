"""What the catalogue tells other apps, which it never imports (they import it).

``book_deleted``: sent with ``book_id=`` once a book and its chapters are gone, whoever deleted
it (the API or the operator console), so what other apps keep about the book can go too.
"""

from django.dispatch import Signal

book_deleted = Signal()
