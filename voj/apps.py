from django.apps import AppConfig


class VojConfig(AppConfig):
    name = "voj"
    verbose_name = "voj"

    def ready(self) -> None:
        # Django records last_login on every sign-in; in production that is a write to the
        # operator database (a file published to S3 with a conditional PUT), so two operators
        # signing in at once on two containers would make one fail. Sign-ins write nothing.
        from django.contrib.auth import user_logged_in
        from django.contrib.auth.models import update_last_login

        user_logged_in.disconnect(update_last_login, dispatch_uid="update_last_login")
