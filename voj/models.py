"""The SQL side of the shared security state (voj/security): login failure counts and revoked
tokens, each row with its expiry. Production keeps the same records in a DynamoDB table, never
in the operator database."""

from django.db import models


class SecurityRecord(models.Model):
    key = models.CharField(primary_key=True, max_length=100)
    count = models.PositiveIntegerField(default=0)
    expires_at = models.DateTimeField(db_index=True)
    # What the key stands for, for an operator (the key itself is a hash).
    subject = models.CharField(max_length=200, blank=True, default="")
    # What a put record holds (an account's claim, a console session's data); empty for counts
    # and markers.
    value = models.TextField(blank=True, default="")

    class Meta:
        db_table = "voj_security_record"

    def __str__(self) -> str:
        return self.key
