"""Create the demo login, channels and subscriptions (idempotent). Used by ``make run``."""

import os

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from channels.kinds import ChannelKind
from channels.models import Channel, Subscription
from channels.services import attach_channel, create_channel, update_channel, update_subscription
from deliveries.schedules import register_schedules
from events.formats import PayloadFormat
from events.models import EventType
from events.services import set_event_type_enabled

DEMO_USERNAME = "demo"
# Where `make run` serves; DEMO_BASE_URL points the demo channels elsewhere (another port).
DEMO_BASE_URL = os.environ.get("DEMO_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
DEMO_RECEIVER_URL = f"{DEMO_BASE_URL}/demo/receiver/"
DEMO_SLACK_URL = f"{DEMO_BASE_URL}/demo/slack/"

# (event type, channel name, sources)
DEMO_SUBSCRIPTIONS = [
    ("order.completed", "Demo receiver", ["admin", "shop", "funnel"]),
    ("transaction.approved", "Demo receiver", ["shop", "funnel"]),
    ("transaction.declined", "Demo receiver", ["shop", "funnel"]),
    ("refund.applied", "Demo receiver", ["admin", "shop", "funnel"]),
    ("customer.created", "Demo receiver", ["admin", "shop", "funnel"]),
    ("order.completed", "Sales team (email)", ["shop"]),
    ("contact.created", "Team chat (Slack)", ["funnel"]),
    # One channel per seed system's payload format (SPEC section 12), all to the demo receiver.
    ("customer.created", "Demo receiver (fakturia format)", ["admin", "shop", "funnel"]),
    ("contract.canceled", "Demo receiver (nitrobox format)", ["admin", "shop", "funnel"]),
    ("document.status_changed", "Demo receiver (flat format)", ["admin", "shop", "funnel"]),
]


class Command(BaseCommand):
    help = "Create the demo superuser, channels and subscriptions; print the login."

    @transaction.atomic
    def handle(self, *args, **options):
        password = os.environ.get("DEMO_PASSWORD") or "demo-password-change-me"
        User = get_user_model()
        user, _ = User.objects.get_or_create(
            username=DEMO_USERNAME, defaults={"email": "demo@example.com", "is_staff": True, "is_superuser": True}
        )
        user.is_staff = user.is_superuser = user.is_active = True
        user.set_password(password)
        user.save()

        channels = {
            "Demo receiver": dict(kind=ChannelKind.POSTBACK, url=DEMO_RECEIVER_URL, timeout=10),
            "Sales team (email)": dict(kind=ChannelKind.EMAIL, email_to="sales@example.com"),
            "Team chat (Slack)": dict(kind=ChannelKind.SLACK, url=DEMO_SLACK_URL),
            **{
                f"Demo receiver ({payload_format} format)": dict(
                    kind=ChannelKind.POSTBACK, url=DEMO_RECEIVER_URL, timeout=10, format=payload_format
                )
                for payload_format in (PayloadFormat.FAKTURIA, PayloadFormat.NITROBOX, PayloadFormat.FLAT)
            },
        }
        by_name = {}
        for name, fields in channels.items():
            channel = Channel.objects.filter(name=name).first()
            if channel is None:
                channel = create_channel(name=name, **fields)
            elif "url" in fields:
                channel = update_channel(channel=channel, changes={"url": fields["url"]})  # follows DEMO_BASE_URL
            by_name[name] = channel

        for key, channel_name, sources in DEMO_SUBSCRIPTIONS:
            event_type = set_event_type_enabled(event_type=EventType.objects.get(key=key), enabled=True)
            channel = by_name[channel_name]
            subscription = Subscription.objects.filter(event_type=event_type, channel=channel).first()
            if subscription is None:
                attach_channel(event_type=event_type, channel=channel, sources=sources)
            else:
                update_subscription(subscription=subscription, sources=sources)

        # The sweeper is also registered after migrate; again here so the demo never runs without it.
        register_schedules()

        self.stdout.write(
            self.style.SUCCESS(
                "\n  Admin:    http://127.0.0.1:8000/admin/\n"
                f"  Login:    {DEMO_USERNAME} / {password}\n"
                "  API docs: http://127.0.0.1:8000/api/docs/\n"
            )
        )
