from django.db import models


class CdnAccess(models.Model):
    """No table: carries the permission to purge the CDN, granted to operators by group."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [("invalidate_cdn", "Can invalidate CDN")]
        verbose_name = "CDN access"

    def __str__(self) -> str:
        return "CDN access"
