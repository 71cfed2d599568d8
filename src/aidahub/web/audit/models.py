"""The append-only, hash-chained audit trail.

Each event stores the hash of the event before it, so an edited, deleted or reordered row
breaks the chain. The single ``ChainHead`` row is locked while an event is appended, which
serializes writers so that concurrent requests cannot fork the chain; ``prev_hash`` is
unique as a second guard, so a writer that somehow got past the lock fails instead of
forking. docs/audit.md describes the whole design.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

PATH_LENGTH = 1000
USER_AGENT_LENGTH = 500
REQUEST_ID_LENGTH = 100


class AppendOnlyError(RuntimeError):
    """Raised on any attempt to change or delete an audit event."""


class AuditEvent(models.Model):
    created_at = models.DateTimeField(_("time"), db_index=True)
    # The actor's id is hashed, so deleting a user must not rewrite it (SET_NULL would break
    # the chain at every event of theirs): no database constraint, and the id stays as
    # recorded, with the username kept in actor_label.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    actor_label = models.CharField(_("actor"), max_length=255, blank=True)
    action = models.CharField(_("action"), max_length=100, db_index=True)
    object_type = models.CharField(max_length=100, blank=True)
    object_id = models.CharField(max_length=255, blank=True)
    object_repr = models.CharField(max_length=500, blank=True)
    data = models.JSONField(default=dict, blank=True)
    request_ip = models.GenericIPAddressField(null=True, blank=True)
    request_method = models.CharField(max_length=10, blank=True)
    request_path = models.CharField(max_length=PATH_LENGTH, blank=True)
    user_agent = models.CharField(max_length=USER_AGENT_LENGTH, blank=True)
    request_id = models.CharField(max_length=REQUEST_ID_LENGTH, blank=True)
    prev_hash = models.CharField(max_length=64, unique=True)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("audit event")
        indexes = [
            models.Index(fields=["object_type", "object_id"], name="audit_event_object"),
            models.Index(fields=["actor_label"], name="audit_event_actor_label"),
            models.Index(fields=["request_ip"], name="audit_event_request_ip"),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.actor_label} {self.action}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise AppendOnlyError("audit events cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("audit events cannot be deleted")


class ChainHead(models.Model):
    """One row holding the newest hash; locked to serialize appends."""

    last_hash = models.CharField(max_length=64)
    count = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.count} events, head {self.last_hash[:12]}"
