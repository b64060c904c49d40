from django.contrib.admin.apps import AdminConfig


class VojAdminConfig(AdminConfig):
    """Django admin with the operator console's site (voj/admin_site.py)."""

    default_site = "voj.admin_site.VojAdminSite"
