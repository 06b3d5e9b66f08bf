import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from common.fields import EncryptedTextField


class Source(models.TextChoices):
    """Where something happened (seed 004): every event has exactly one."""

    ADMIN = "admin", "Admin"
    SHOP = "shop", "Shop"
    FUNNEL = "funnel", "Funnel"


class Availability(models.TextChoices):
    STANDARD = "standard", _("Standard")
    ON_DEMAND = "on_demand", _("On demand")


class EventType(models.Model):
    """One entry of the event catalogue; ``enabled`` is the staff toggle."""

    key = models.CharField(
        verbose_name=_("key"),
        max_length=100,
        primary_key=True,
        help_text=_("Dotted technical identifier, e.g. order.completed"),
    )
    name = models.CharField(verbose_name=_("name"), max_length=200)
    category = models.CharField(verbose_name=_("category"), max_length=100, db_index=True)
    description = models.TextField(verbose_name=_("description"), blank=True)
    availability = models.CharField(
        verbose_name=_("availability"), max_length=20, choices=Availability.choices, default=Availability.STANDARD
    )
    enabled = models.BooleanField(verbose_name=_("enabled"), default=False)
    manual_retry = models.BooleanField(
        verbose_name=_("manual retry"),
        default=False,
        help_text=_("Failed postbacks of this type may be retried by hand."),
    )
    postback_only = models.BooleanField(
        verbose_name=_("postback only"), default=False, help_text=_("May only be attached to postback channels.")
    )
    critical = models.BooleanField(
        verbose_name=_("critical"),
        default=False,
        help_text=_("A delivery of this type not succeeded within WEBHOOKS_ALERT_AFTER_MIN minutes raises an alert."),
    )
    example_payload = models.JSONField(verbose_name=_("example payload"), default=dict, blank=True)
    payload_schema = models.JSONField(
        verbose_name=_("payload schema"),
        null=True,
        blank=True,
        help_text=_("Optional JSON Schema the payload must satisfy."),
    )
    position = models.PositiveIntegerField(
        verbose_name=_("position"), default=0, help_text=_("Order within the catalogue.")
    )

    class Meta:
        verbose_name = _("event type")
        verbose_name_plural = _("event types")
        ordering = ["position", "key"]
        permissions = [("enable_on_demand", "Can switch on on-demand event types")]
        constraints = [
            models.CheckConstraint(
                condition=Q(availability__in=Availability.values), name="eventtype_availability_valid"
            ),
        ]

    def __str__(self):
        return self.key

    # The catalogue's English texts are gettext message ids (events/catalogue/, gettext_noop):
    # the database and the API keep English, the staff pages show the active language.
    @property
    def local_name(self) -> str:
        return gettext(self.name)

    @property
    def local_category(self) -> str:
        return gettext(self.category)

    @property
    def local_description(self) -> str:
        return gettext(self.description) if self.description else ""


class Event(models.Model):
    """One occurrence of an event type. The payload is stored once, here."""

    id = models.UUIDField(verbose_name=_("ID"), primary_key=True, default=uuid.uuid4, editable=False)
    # No index of its own (nor PostgreSQL's ``_like`` one): event_type_created_idx starts with it.
    type = models.ForeignKey(
        EventType, verbose_name=_("event type"), on_delete=models.PROTECT, related_name="events", db_index=False
    )
    source = models.CharField(verbose_name=_("source"), max_length=10, choices=Source.choices)
    occurred_at = models.DateTimeField(verbose_name=_("occurred"))
    created_at = models.DateTimeField(verbose_name=_("created"), auto_now_add=True, db_index=True)
    payload = models.JSONField(verbose_name=_("payload"), default=dict)
    order_ref = models.CharField(verbose_name=_("order"), max_length=100, blank=True, default="")
    triggered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("triggered by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,  # null for the platform's own events: a partial index (below) instead
    )

    class Meta:
        verbose_name = _("event")
        verbose_name_plural = _("events")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(source__in=Source.values), name="event_source_valid"),
        ]
        indexes = [
            models.Index(fields=["order_ref", "-created_at"], name="event_order_ref_idx", condition=~Q(order_ref="")),
            models.Index(fields=["type", "-created_at"], name="event_type_created_idx"),
            # Who triggered it: looked up when that user is deleted (SET_NULL); emit() without one writes none.
            models.Index(
                fields=["triggered_by"], name="event_triggered_by_idx", condition=Q(triggered_by__isnull=False)
            ),
        ]

    def __str__(self):
        return f"{self.type_id} {self.id}"


class Order(models.Model):
    """An order that events refer to (by ``Event.order_ref``), kept by ``emit``.

    A table of its own so the Orders view lists orders newest first with an index,
    instead of grouping millions of events.
    """

    ref = models.CharField(verbose_name=_("order reference"), max_length=100, unique=True)
    first_event_at = models.DateTimeField(verbose_name=_("first event"))
    last_event_at = models.DateTimeField(verbose_name=_("last event"))

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-last_event_at", "-id"]
        indexes = [models.Index(fields=["-last_event_at", "-id"], name="order_last_event_idx")]

    def __str__(self):
        return self.ref


IDEMPOTENCY_KEY_HOURS = 24


class IdempotencyRecord(models.Model):
    """An ``Idempotency-Key`` a user sent with an API POST, and the answer it got (Stripe's semantics).

    The same key with the same request within ``IDEMPOTENCY_KEY_HOURS`` gets this answer again; with
    another request, a 409. ``status_code`` is null while the first request is still being answered.
    Kept for the 24 hours, then purged with the retention (``purge_old_records``).
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of the method, path and body.")
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    # Encrypted at rest: an answer may carry a channel's new signing secret (create, rotate-secret).
    body = EncryptedTextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_unique_user_key")]

    def __str__(self):
        return f"{self.key} ({self.user_id})"
