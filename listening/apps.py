from django.apps import AppConfig
from django.db.models.signals import post_delete


class ListeningConfig(AppConfig):
    name = "listening"
    verbose_name = "What listeners keep"

    def ready(self) -> None:
        # What listeners keep goes with the account (and, once books signal it, with the book).
        # Models import only once the apps are ready; this module is imported before.
        from listening import receivers  # noqa: PLC0415 (app registry: imports the user model)

        # Every sender: a proxy of the user model sends its own class (the receiver checks).
        post_delete.connect(receivers.user_deleted, dispatch_uid="listening_user_deleted")
