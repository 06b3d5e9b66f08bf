from django.conf import settings
from django.db import models
from django.db.models import Q


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class Trigger(models.TextChoices):
    AUTOMATIC = "automatic", "Automatic"
    MANUAL = "manual", "Manual retry"
    TEST = "test", "Test event"


class ErrorKind(models.TextChoices):
    TIMEOUT = "timeout", "Timeout"
    CONNECTION = "connection", "Connection error"
    DNS = "dns", "DNS failure"
    HTTP_STATUS = "http_status", "HTTP status"
    BLOCKED_TARGET = "blocked_target", "Blocked target"
    CHANNEL_INACTIVE = "channel_inactive", "Channel inactive"
    SUBSCRIPTION_INACTIVE = "sub_inactive", "Subscription removed or inactive"
    TYPE_DISABLED = "type_disabled", "Event type disabled"
    EMAIL = "email", "Email error"
    INTERNAL = "internal", "Internal error"


class Delivery(models.Model):
    """One event to one channel (through one subscription, or a test send)."""

    event = models.ForeignKey("events.Event", on_delete=models.CASCADE, related_name="deliveries")
    subscription = models.ForeignKey(
        "channels.Subscription", null=True, blank=True, on_delete=models.SET_NULL, related_name="deliveries"
    )
    channel = models.ForeignKey("channels.Channel", on_delete=models.CASCADE, related_name="deliveries")
    # Copied from the event so the log can be filtered without a join.
    event_type = models.ForeignKey("events.EventType", on_delete=models.PROTECT, related_name="+")
    source = models.CharField(max_length=10)
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempt_count = models.PositiveIntegerField(default=0)
    automatic_attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    # Set by the conditional UPDATE that claims the row; the worker holding this token owns it.
    claim_token = models.UUIDField(null=True, blank=True, editable=False)
    # What the next attempt is: automatic, or a manual retry a user asked for.
    pending_trigger = models.CharField(max_length=10, choices=Trigger.choices, default=Trigger.AUTOMATIC)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_error = models.CharField(max_length=20, choices=ErrorKind.choices, blank=True)
    last_response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    failure_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "deliveries"
        ordering = ["-id"]
        permissions = [("retry_delivery", "Can retry failed deliveries")]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=DeliveryStatus.values), name="delivery_status_valid"),
        ]
        indexes = [
            # The dispatcher and the sweeper: due pending rows, expired leases.
            models.Index(
                fields=["next_attempt_at"],
                name="delivery_due_idx",
                condition=Q(status__in=["pending", "sending"]),
            ),
            # The sweeper: leases of workers that died.
            models.Index(
                fields=["lease_expires_at"],
                name="delivery_lease_idx",
                condition=Q(status="sending"),
            ),
            models.Index(fields=["claim_token"], name="delivery_claim_idx", condition=Q(claim_token__isnull=False)),
            models.Index(fields=["status", "-id"], name="delivery_status_idx"),
            # The dashboard's "failed, waiting for a human" list: failed rows of the retryable types, newest first.
            models.Index(fields=["status", "event_type", "-id"], name="delivery_status_type_idx"),
            models.Index(fields=["channel", "-id"], name="delivery_channel_idx"),
            models.Index(fields=["event_type", "-id"], name="delivery_event_type_idx"),
            models.Index(fields=["created_at"], name="delivery_created_idx"),
        ]

    def __str__(self):
        return f"Delivery {self.pk} ({self.status})"


class Attempt(models.Model):
    """One exchange with the destination, recorded whatever its outcome."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempts")
    number = models.PositiveIntegerField()
    trigger = models.CharField(max_length=10, choices=Trigger.choices, default=Trigger.AUTOMATIC)
    triggered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField(default=0)
    request_url = models.TextField(blank=True)
    request_headers = models.JSONField(default=dict, blank=True)
    request_body = models.TextField(blank=True)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_headers = models.JSONField(default=dict, blank=True)
    response_body = models.TextField(blank=True, help_text="First 4 KiB of the response body.")
    error = models.CharField(max_length=20, choices=ErrorKind.choices, blank=True)
    error_detail = models.TextField(blank=True)

    class Meta:
        ordering = ["delivery_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["delivery", "number"], name="attempt_unique_number"),
            models.CheckConstraint(condition=Q(trigger__in=Trigger.values), name="attempt_trigger_valid"),
        ]
        indexes = [models.Index(fields=["started_at"], name="attempt_started_idx")]

    def __str__(self):
        return f"Attempt {self.number} of delivery {self.delivery_id}"

    @property
    def succeeded(self) -> bool:
        # An email attempt has no HTTP status: it succeeded when the backend raised nothing.
        if self.error:
            return False
        return self.response_status is None or 200 <= self.response_status < 300


class DemoReceipt(models.Model):
    """A postback received by the built-in demo receiver (``make run``'s demo channel)."""

    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    webhook_id = models.CharField(max_length=100, blank=True)
    event_type = models.CharField(max_length=100, blank=True)
    signature_valid = models.BooleanField(default=False)
    headers = models.JSONField(default=dict)
    body = models.TextField()

    class Meta:
        ordering = ["-received_at"]

    def __str__(self):
        return f"{self.event_type} {self.webhook_id}"
