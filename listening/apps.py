from django.apps import AppConfig
from django.db.models.signals import post_delete


class ListeningConfig(AppConfig):
    name = "listening"
    verbose_name = "What listeners keep"

    def ready(self) -> None:
        # What listeners keep goes with the book and with the account.
        # Models import only once the apps are ready; this module is imported before.
        from books.signals import book_deleted  # noqa: PLC0415 (app registry, as below)
        from listening import receivers  # noqa: PLC0415 (app registry: imports the user model)

        book_deleted.connect(receivers.book_deleted, dispatch_uid="listening_book_deleted")

        # Every sender: a proxy of the user model sends its own class (the receiver checks).
        post_delete.connect(receivers.user_deleted, dispatch_uid="listening_user_deleted")
