from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")


class Trigger(models.TextChoices):
    AUTOMATIC = "automatic", _("Automatic")
    MANUAL = "manual", _("Manual retry")
    TEST = "test", _("Test event")
    RESEND = "resend", _("Resend")


class ErrorKind(models.TextChoices):
    TIMEOUT = "timeout", _("Timeout")
    CONNECTION = "connection", _("Connection error")
    DNS = "dns", _("DNS failure")
    HTTP_STATUS = "http_status", _("HTTP status")
    BLOCKED_TARGET = "blocked_target", _("Blocked target")
    CHANNEL_INACTIVE = "channel_inactive", _("Channel inactive")
    SUBSCRIPTION_INACTIVE = "sub_inactive", _("Subscription removed or inactive")
    TYPE_DISABLED = "type_disabled", _("Event type disabled")
    EMAIL = "email", _("Email error")
    WORKER_LOST = "worker_lost", _("Worker lost")
    INTERNAL = "internal", _("Internal error")


class Delivery(models.Model):
    """One event to one channel (through one subscription, or a test send)."""

    event = models.ForeignKey(
        "events.Event", verbose_name=_("event"), on_delete=models.CASCADE, related_name="deliveries"
    )
    subscription = models.ForeignKey(
        "channels.Subscription",
        verbose_name=_("channel attachment"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="deliveries",
    )
    # No index of its own: the composite indexes below that start with channel_id serve every lookup
    # (and the cascade), and each index is written on every emit.
    channel = models.ForeignKey(
        "channels.Channel",
        verbose_name=_("channel"),
        on_delete=models.CASCADE,
        related_name="deliveries",
        db_index=False,
    )
    # Copied from the event so the log can be filtered without a join.
    # No index of its own (nor PostgreSQL's ``_like`` one): delivery_event_type_idx starts with it.
    # No constraint in the database either: every writer copies the event's own type (``event.type_id``,
    # itself a checked foreign key, and the event one of this row's), so the type exists; the check cost
    # two lookups (and a row lock on the type, which every emitter shares) per emit. PROTECT is Django's.
    event_type = models.ForeignKey(
        "events.EventType",
        verbose_name=_("event type"),
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    source = models.CharField(verbose_name=_("source"), max_length=10)
    status = models.CharField(
        verbose_name=_("status"), max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempt_count = models.PositiveIntegerField(verbose_name=_("attempts"), default=0)
    automatic_attempts = models.PositiveIntegerField(verbose_name=_("automatic attempts"), default=0)
    next_attempt_at = models.DateTimeField(verbose_name=_("next attempt"), null=True, blank=True)
    lease_expires_at = models.DateTimeField(verbose_name=_("lease expires"), null=True, blank=True)
    # How many times a worker holding this delivery stopped before recording its attempt (poison cap).
    lease_expiries = models.PositiveSmallIntegerField(verbose_name=_("lease expiries"), default=0)
    # Set by the conditional UPDATE that claims the row; the worker holding this token owns it.
    claim_token = models.UUIDField(verbose_name=_("claim token"), null=True, blank=True, editable=False)
    # What the next attempt is: automatic, or a manual retry a user asked for.
    pending_trigger = models.CharField(
        verbose_name=_("next attempt's trigger"), max_length=10, choices=Trigger.choices, default=Trigger.AUTOMATIC
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,  # almost always null: a partial index (below) instead
    )
    last_error = models.CharField(verbose_name=_("last error"), max_length=20, choices=ErrorKind.choices, blank=True)
    last_response_status = models.PositiveSmallIntegerField(verbose_name=_("last HTTP status"), null=True, blank=True)
    failure_reason = models.TextField(verbose_name=_("failure reason"), blank=True)
    created_at = models.DateTimeField(verbose_name=_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(verbose_name=_("updated"), auto_now=True)
    completed_at = models.DateTimeField(verbose_name=_("completed"), null=True, blank=True)
    # Set when the watch job (``deliveries.alerting``) has looked at this failure, and announced it
    # (``postbacks.delivery.exhausted``) if its automatic retries were spent: never twice.
    failure_reviewed_at = models.DateTimeField(
        verbose_name=_("failure reviewed"), null=True, blank=True, editable=False
    )
    # Set, by a fenced UPDATE ... WHERE it is null, on a failed delivery a recover job resent:
    # a second recover, or one running beside it, never takes the same row again.
    recovered_by = models.ForeignKey(
        "deliveries.RecoverJob",
        verbose_name=_("recovered by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,  # almost always null: a partial index (below) instead
    )
    # A test send from the channel page or the API (any event type): kept out of success rates, the log's
    # default view, order timelines, alerting and auto-disable; never retried or resent.
    is_test = models.BooleanField(verbose_name=_("test send"), default=False, editable=False)

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        ordering = ["-id"]
        permissions = [
            ("retry_delivery", "Can retry failed deliveries"),
            ("resend", "Can resend events to channels"),
            ("recover", "Can recover what failed to a channel"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=DeliveryStatus.values), name="delivery_status_valid"),
        ]
        indexes = [
            # Who asked for a manual retry / which recover job resent it: set on few rows, looked up when
            # that user or job is deleted (SET_NULL). Partial, so a new delivery (null) writes neither.
            models.Index(
                fields=["requested_by"], name="delivery_requested_by_idx", condition=Q(requested_by__isnull=False)
            ),
            models.Index(
                fields=["recovered_by"], name="delivery_recovered_by_idx", condition=Q(recovered_by__isnull=False)
            ),
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
            # The claim: channels with pending rows (a skip scan) and each one's oldest due rows.
            models.Index(
                fields=["channel", "next_attempt_at"],
                name="delivery_pending_channel_idx",  # claims.PENDING_CHANNEL_INDEX
                condition=Q(status="pending"),
            ),
            # The claim: suspects (a process sending them was lost), sent in processes of their own.
            models.Index(
                fields=["channel"],
                name="delivery_suspect_idx",
                condition=Q(status="pending", lease_expiries__gt=0),
            ),
            # The claim: what each channel has in flight.
            models.Index(fields=["channel"], name="delivery_sending_channel_idx", condition=Q(status="sending")),
            models.Index(fields=["status", "-id"], name="delivery_status_idx"),
            # The dashboard's "failed, waiting for a human" list: failed rows of the retryable types, newest first.
            models.Index(fields=["status", "event_type", "-id"], name="delivery_status_type_idx"),
            models.Index(fields=["channel", "-id"], name="delivery_channel_idx"),
            # A channel page's recent test sends: few rows, newest first.
            models.Index(fields=["channel", "-id"], name="delivery_test_idx", condition=Q(is_test=True)),
            # A channel's page: its success rate and latency over 24 h and 7 d, one range of its own rows.
            models.Index(fields=["channel", "created_at"], name="delivery_channel_created_idx"),
            # Recover: a channel's failed rows not yet resent, walked by id.
            models.Index(
                fields=["channel", "id"],
                name="delivery_recoverable_idx",
                condition=Q(status="failed", recovered_by__isnull=True),
            ),
            models.Index(fields=["event_type", "-id"], name="delivery_event_type_idx"),
            models.Index(fields=["created_at"], name="delivery_created_idx"),
            # The watch job (deliveries.alerting): failures not looked at yet ...
            models.Index(
                fields=["completed_at"],
                name="delivery_unreviewed_idx",
                condition=Q(status="failed", failure_reviewed_at__isnull=True),
            ),
            # ... each channel's latest success (auto-disable) ...
            models.Index(
                fields=["channel", "completed_at"], name="delivery_channel_success_idx", condition=Q(status="succeeded")
            ),
            # ... and what has not succeeded yet, by age (undelivered alerts).
            models.Index(
                fields=["created_at"],
                name="delivery_unsucceeded_idx",
                condition=Q(status__in=["pending", "sending", "failed"]),
            ),
        ]

    def __str__(self):
        return f"Delivery {self.pk} ({self.status})"


class Attempt(models.Model):
    """One exchange with the destination, recorded whatever its outcome."""

    delivery = models.ForeignKey(
        Delivery, verbose_name=_("delivery"), on_delete=models.CASCADE, related_name="attempts"
    )
    number = models.PositiveIntegerField(verbose_name=_("number"))
    trigger = models.CharField(
        verbose_name=_("trigger"), max_length=10, choices=Trigger.choices, default=Trigger.AUTOMATIC
    )
    triggered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("triggered by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    started_at = models.DateTimeField(verbose_name=_("started"))
    # Empty while the request is in flight: the row is written before the request goes out.
    finished_at = models.DateTimeField(verbose_name=_("finished"), null=True, blank=True)
    duration_ms = models.PositiveIntegerField(verbose_name=_("duration (ms)"), default=0)
    request_url = models.TextField(verbose_name=_("request URL"), blank=True)
    request_headers = models.JSONField(verbose_name=_("request headers"), default=dict, blank=True)
    response_status = models.PositiveSmallIntegerField(verbose_name=_("HTTP status"), null=True, blank=True)
    response_headers = models.JSONField(verbose_name=_("response headers"), default=dict, blank=True)
    response_body = models.TextField(
        verbose_name=_("response body"), blank=True, help_text=_("First 4 KiB of the response body.")
    )
    error = models.CharField(verbose_name=_("error"), max_length=20, choices=ErrorKind.choices, blank=True)
    error_detail = models.TextField(verbose_name=_("error detail"), blank=True)

    class Meta:
        verbose_name = _("attempt")
        verbose_name_plural = _("attempts")
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

    received_at = models.DateTimeField(verbose_name=_("received"), auto_now_add=True, db_index=True)
    webhook_id = models.CharField(verbose_name=_("webhook ID"), max_length=100, blank=True)
    event_type = models.CharField(verbose_name=_("event type"), max_length=100, blank=True)
    signature_valid = models.BooleanField(verbose_name=_("signature valid"), default=False)
    headers = models.JSONField(verbose_name=_("headers"), default=dict)
    body = models.TextField(verbose_name=_("body"))

    class Meta:
        verbose_name = _("demo receipt")
        verbose_name_plural = _("demo receipts")
        ordering = ["-received_at"]

    def __str__(self):
        return f"{self.event_type} {self.webhook_id}"


class BreakerState(models.TextChoices):
    CLOSED = "closed", _("Closed")
    OPEN = "open", _("Cooling off")
    HALF_OPEN = "half_open", _("Probing")


class ChannelBreaker(models.Model):
    """A channel's circuit breaker (``deliveries.engine.breaker``); no row means closed and never failed."""

    channel = models.OneToOneField(
        "channels.Channel", primary_key=True, on_delete=models.CASCADE, related_name="breaker"
    )
    state = models.CharField(max_length=10, choices=BreakerState.choices, default=BreakerState.CLOSED)
    consecutive_failures = models.PositiveIntegerField(default=0)
    cooloff_s = models.FloatField(default=0)
    opened_at = models.DateTimeField(null=True, blank=True)
    open_until = models.DateTimeField(null=True, blank=True)
    probe_started_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "channel breaker"
        constraints = [
            models.CheckConstraint(condition=Q(state__in=BreakerState.values), name="channelbreaker_state_valid"),
        ]

    def __str__(self):
        return f"{self.channel_id}: {self.state}"


class WorkerHeartbeat(models.Model):
    """The last sign of life of a worker process's engine, or of the sweeper schedule."""

    class Kind(models.TextChoices):
        ENGINE = "engine", "Engine"
        SWEEPER = "sweeper", "Sweeper"

    key = models.CharField(max_length=150, primary_key=True)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    host = models.CharField(max_length=100, blank=True)
    pid = models.PositiveIntegerField(null=True, blank=True)
    seen_at = models.DateTimeField()
    in_flight = models.PositiveIntegerField(default=0)
    sent = models.PositiveBigIntegerField(default=0)

    class Meta:
        ordering = ["-seen_at"]

    def __str__(self):
        return self.key


class Alert(models.Model):
    """Critical deliveries to one channel not succeeded in time (SPEC section 10): open until they all have.

    At most one open alert per channel (a constraint), and no new one within an hour of the last.
    """

    channel = models.ForeignKey("channels.Channel", on_delete=models.CASCADE, related_name="alerts")
    raised_at = models.DateTimeField()
    cleared_at = models.DateTimeField(null=True, blank=True)
    deliveries = models.ManyToManyField(Delivery, related_name="alerts")

    class Meta:
        ordering = ["-raised_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel"], condition=Q(cleared_at__isnull=True), name="alert_one_open_per_channel"
            ),
        ]
        indexes = [
            models.Index(fields=["channel", "-raised_at"], name="alert_channel_raised_idx"),
            models.Index(fields=["-raised_at"], name="alert_open_idx", condition=Q(cleared_at__isnull=True)),
        ]

    def __str__(self):
        return f"Alert {self.pk} on channel {self.channel_id}"

    @property
    def is_open(self) -> bool:
        return self.cleared_at is None


class RecoverJob(models.Model):
    """Resend everything that failed to one channel in a window (SPEC section 10), run as a django-q2 job."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    ACTIVE = (Status.QUEUED, Status.RUNNING)

    channel = models.ForeignKey("channels.Channel", on_delete=models.CASCADE, related_name="recover_jobs")
    since = models.DateTimeField()
    until = models.DateTimeField(null=True, blank=True)
    event_types = models.JSONField(default=list, blank=True, help_text="Event type keys; empty: all types.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    resent = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    # Keyset cursor: the highest delivery id looked at; the job goes on from here after a re-enqueue.
    last_delivery_id = models.PositiveBigIntegerField(default=0)
    # The highest delivery id when the job started: rows failing later are not this job's.
    max_delivery_id = models.PositiveBigIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    summary = models.TextField(blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["queued", "running", "done", "failed"]), name="recoverjob_status_valid"
            ),
            # One queued or running recover per channel: a second start is refused (409 / form error).
            models.UniqueConstraint(
                fields=["channel"],
                condition=Q(status__in=["queued", "running"]),
                name="recoverjob_one_active_per_channel",
            ),
        ]

    def __str__(self):
        return f"Recover {self.pk} of channel {self.channel_id} ({self.status})"

    @property
    def percent(self) -> int:
        return 100 if not self.total else min(100, round(100 * self.done / self.total))
