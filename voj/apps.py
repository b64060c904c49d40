import os

from django.apps import AppConfig
from django.contrib.auth.signals import user_logged_in
from django.db.models.signals import post_save, pre_delete, pre_save


class VojConfig(AppConfig):
    name = "voj"
    verbose_name = "voj"

    def ready(self) -> None:
        # Django records last_login on every sign-in; in production that is a write to the
        # operator database (a file published to S3 with a conditional PUT), so two operators
        # signing in at once on two containers would make one fail. Sign-ins write nothing.
        # Models import only once the apps are ready; this module is imported before.
        from django.contrib.auth.models import update_last_login  # noqa: PLC0415 (app registry)

        user_logged_in.disconnect(update_last_login, dispatch_uid="update_last_login")

        # A password change, deactivation or deletion ends older tokens on stream-url too,
        # which checks tokens without loading the user (voj/security/accounts.py).
        # Every sender: a proxy of the user model sends its own class (the handlers check).
        from voj.security import accounts  # noqa: PLC0415 (app registry: imports voj.models)

        pre_save.connect(accounts.user_saving, dispatch_uid="voj_user_saving")
        post_save.connect(accounts.user_saved, dispatch_uid="voj_user_saved")
        pre_delete.connect(accounts.user_deleted, dispatch_uid="voj_user_deleted")

        # SnapStart's restore hooks, inside Lambda whatever else is configured (voj/snapstart.py).
        # It builds the apps' singletons: imported once they are loaded, and only in Lambda.
        if os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):
            from voj import snapstart  # noqa: PLC0415 (app registry; Lambda only)

            snapstart.register()
