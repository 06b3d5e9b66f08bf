from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from channels.kinds import ChannelKind
from channels.secrets import generate_secret
from channels.validation import validate_channel, validate_subscription
from common.fields import EncryptedJSONField, EncryptedTextField
from events.formats import PayloadFormat
from events.models import EventType, Source

MAX_TIMEOUT_S = 30  # hard upper bound (seed 004); WEBHOOKS_TIMEOUT_S may lower it


def default_timeout() -> int:
    return settings.WEBHOOKS_TIMEOUT_S


class Channel(models.Model):
    """A destination for events. Per-kind rules are checked in ``clean()``."""

    name = models.CharField(verbose_name=_("name"), max_length=200)
    description = models.TextField(
        verbose_name=_("description"), blank=True, help_text=_("What this channel is for (never sent).")
    )
    metadata = models.JSONField(
        verbose_name=_("metadata"),
        default=dict,
        blank=True,
        help_text=_("The integrator's own keys and values (never sent), e.g. a tenant id."),
    )
    kind = models.CharField(
        verbose_name=_("kind"), max_length=10, choices=ChannelKind.choices, default=ChannelKind.POSTBACK
    )
    url = models.URLField(
        verbose_name=_("URL"), max_length=2000, blank=True, help_text=_("Postback or Slack incoming-webhook URL.")
    )
    email_to = models.CharField(
        verbose_name=_("e-mail recipients"),
        max_length=1000,
        blank=True,
        help_text=_("Email channels: comma-separated recipient addresses."),
    )
    # Encrypted at rest (common.fields): the columns hold Fernet tokens, Python sees the values.
    secret = EncryptedTextField(verbose_name=_("signing secret"), blank=True, editable=False)
    previous_secret = EncryptedTextField(verbose_name=_("previous signing secret"), blank=True, editable=False)
    previous_secret_expires_at = models.DateTimeField(
        verbose_name=_("previous secret valid until"), null=True, blank=True, editable=False
    )
    # Secrets replaced before ``previous_secret`` and still in their own overlap (``channels.secrets``):
    # ``[{"secret": ..., "expires_at": ISO 8601}]``, encrypted like the others.
    older_secrets = EncryptedJSONField(
        verbose_name=_("older signing secrets"), default=list, blank=True, editable=False
    )
    secret_rotated_at = models.DateTimeField(verbose_name=_("secret rotated"), null=True, blank=True, editable=False)
    format = models.CharField(
        verbose_name=_("payload format"),
        max_length=20,
        choices=PayloadFormat.choices,
        default=PayloadFormat.STANDARD,
        help_text=_(
            "Postback channels: the body's shape and the event type names, for receivers written for "
            "one of the seed systems (SPEC section 12)."
        ),
    )
    headers = EncryptedJSONField(
        verbose_name=_("custom headers"),
        default=dict,
        blank=True,
        help_text=_("Extra HTTP headers sent with each postback."),
    )
    timeout = models.PositiveSmallIntegerField(
        verbose_name=_("timeout"),
        default=default_timeout,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_TIMEOUT_S)],
        help_text=_("Seconds to wait for the endpoint's answer."),
    )
    max_in_flight = models.PositiveSmallIntegerField(
        verbose_name=_("requests in flight at most"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text=_("Requests in flight to this endpoint at most, across all workers (empty: the default setting)."),
    )
    active = models.BooleanField(verbose_name=_("active"), default=True)
    # Auto-disable (SPEC section 10): when and why the platform deactivated the channel, and when
    # it was switched back on. Disabled and not yet re-enabled (nor deleted): the admin's banner.
    disabled_at = models.DateTimeField(verbose_name=_("disabled"), null=True, blank=True, editable=False)
    disabled_reason = models.TextField(verbose_name=_("reason for disabling"), blank=True, editable=False)
    reenabled_at = models.DateTimeField(verbose_name=_("re-enabled"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(verbose_name=_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(verbose_name=_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("channel")
        verbose_name_plural = _("channels")
        ordering = ["name", "id"]
        permissions = [
            ("send_test_event", "Can send a test event to a channel"),
            ("reveal_secret", "Can reveal a channel's signing secret and custom header values"),
            ("rotate_secret", "Can rotate a channel's signing secret"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=ChannelKind.values), name="channel_kind_valid"),
            models.CheckConstraint(
                condition=Q(timeout__gte=1) & Q(timeout__lte=MAX_TIMEOUT_S), name="channel_timeout_range"
            ),
            models.CheckConstraint(
                condition=~Q(kind__in=[ChannelKind.POSTBACK, ChannelKind.SLACK]) | ~Q(url=""),
                name="channel_url_required",
            ),
            models.CheckConstraint(
                condition=~Q(kind=ChannelKind.EMAIL) | ~Q(email_to=""), name="channel_email_to_required"
            ),
            # Only a postback's body has a format; e-mail and Slack messages are text for people.
            models.CheckConstraint(
                condition=Q(format__in=PayloadFormat.values)
                & (Q(kind=ChannelKind.POSTBACK) | Q(format=PayloadFormat.STANDARD)),
                name="channel_format_valid",
            ),
            # The column holds a token, so the database can only tell that there is a secret.
            models.CheckConstraint(
                condition=~Q(kind=ChannelKind.POSTBACK) | ~Q(secret=""),
                name="channel_postback_has_secret",
            ),
        ]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        # The one place a new postback channel gets its secret, however it is made (the
        # create service, the admin's form, a fixture); rotation replaces it (channels.services).
        if self.kind == ChannelKind.POSTBACK and not self.secret:
            self.secret = generate_secret()
        super().save(*args, **kwargs)

    def clean(self):
        validate_channel(self)

    @property
    def is_postback(self) -> bool:
        return self.kind == ChannelKind.POSTBACK

    @property
    def is_auto_disabled(self) -> bool:
        """Deactivated by the auto-disable check, and nobody has switched it back on since."""
        return not self.active and self.disabled_at is not None and self.reenabled_at is None


class Subscription(models.Model):
    """A channel attached to an event type, for a non-empty subset of sources."""

    event_type = models.ForeignKey(
        EventType, verbose_name=_("event type"), on_delete=models.CASCADE, related_name="subscriptions"
    )
    channel = models.ForeignKey(
        Channel, verbose_name=_("channel"), on_delete=models.CASCADE, related_name="subscriptions"
    )
    source_admin = models.BooleanField("Admin", default=True)
    source_shop = models.BooleanField("Shop", default=True)
    source_funnel = models.BooleanField("Funnel", default=True)
    active = models.BooleanField(verbose_name=_("active"), default=True)
    created_at = models.DateTimeField(verbose_name=_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("channel attachment")
        verbose_name_plural = _("channel attachments")
        ordering = ["event_type_id", "channel_id"]
        constraints = [
            models.UniqueConstraint(fields=["event_type", "channel"], name="subscription_unique_type_channel"),
            models.CheckConstraint(
                condition=Q(source_admin=True) | Q(source_shop=True) | Q(source_funnel=True),
                name="subscription_sources_not_empty",
            ),
        ]

    def __str__(self):
        return f"{self.event_type_id} → {self.channel}"

    @property
    def sources(self) -> list[str]:
        return [s for s in Source.values if getattr(self, f"source_{s}")]

    @sources.setter
    def sources(self, values) -> None:
        values = set(values)
        for s in Source.values:
            setattr(self, f"source_{s}", s in values)

    @staticmethod
    def source_field(source: str) -> str:
        """Name of the boolean column for ``source`` (for queries)."""
        return f"source_{Source(source).value}"

    def clean(self):
        validate_subscription(self)
