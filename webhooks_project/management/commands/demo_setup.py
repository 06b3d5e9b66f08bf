"""Create the demo login, channels and subscriptions (idempotent). Used by ``make run`` (``serve --demo``).

An existing demo user keeps its password (re-hashing it would log everyone out); the demo
channels' URLs follow ``--base-url``, the address ``serve`` listens on.
"""

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
# Where the demo is served when nobody says (`serve --demo` passes its own address).
DEFAULT_BASE_URL = os.environ.get("DEMO_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
DEFAULT_PASSWORD = "demo-password-change-me"


def demo_password() -> str:
    return os.environ.get("DEMO_PASSWORD") or DEFAULT_PASSWORD


def base_url_of(addrport: str) -> str:
    """The URL a browser on this machine reaches ``runserver ADDRPORT`` at ("8001", "0.0.0.0:8001", "[::1]:8001")."""
    host, _, port = addrport.rpartition(":")
    if not host:
        host = "127.0.0.1"
    if host in ("0.0.0.0", "[::]", "::"):
        host = "127.0.0.1"
    return f"http://{host}:{port or '8000'}"


def login_banner(base_url: str) -> str:
    """The framed login block `make run` ends with (after pip, migrations and the servers' start-up lines)."""
    User = get_user_model()
    user = User.objects.filter(username=DEMO_USERNAME).first()
    if user is None:
        login = "(no demo user: run manage.py demo_setup)"
    elif user.check_password(demo_password()):
        login = f"{DEMO_USERNAME} / {demo_password()}"
    else:
        login = f"{DEMO_USERNAME} (its password was changed; manage.py changepassword {DEMO_USERNAME} resets it)"
    lines = [
        "Postbacks demo is running",
        "",
        f"Admin:    {base_url}/admin/",
        f"Login:    {login}",
        f"API docs: {base_url}/api/docs/",
        "Stop:     Ctrl-C",
    ]
    width = max(len(line) for line in lines)
    frame = "+" + "-" * (width + 4) + "+"
    return "\n".join([frame, *(f"|  {line.ljust(width)}  |" for line in lines), frame])


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

    def add_arguments(self, parser):
        parser.add_argument(
            "--base-url",
            default=DEFAULT_BASE_URL,
            help="Where the demo is served: the demo channels post there (default: DEMO_BASE_URL or http://127.0.0.1:8000).",
        )
        parser.add_argument("--no-banner", action="store_true", help="Do not print the login (serve --demo prints it).")

    @transaction.atomic
    def handle(self, *args, base_url, no_banner=False, **options):
        base_url = base_url.rstrip("/")
        receiver_url = f"{base_url}/demo/receiver/"
        slack_url = f"{base_url}/demo/slack/"
        User = get_user_model()
        user, created = User.objects.get_or_create(
            username=DEMO_USERNAME, defaults={"email": "demo@example.com", "is_staff": True, "is_superuser": True}
        )
        if created:
            user.set_password(demo_password())
        if created or not (user.is_staff and user.is_superuser and user.is_active):
            # An existing user keeps its password hash: re-hashing would end everyone's sessions.
            user.is_staff = user.is_superuser = user.is_active = True
            user.save()

        channels = {
            "Demo receiver": dict(kind=ChannelKind.POSTBACK, url=receiver_url, timeout=10),
            "Sales team (email)": dict(kind=ChannelKind.EMAIL, email_to="sales@example.com"),
            "Team chat (Slack)": dict(kind=ChannelKind.SLACK, url=slack_url),
            **{
                f"Demo receiver ({payload_format} format)": dict(
                    kind=ChannelKind.POSTBACK, url=receiver_url, timeout=10, format=payload_format
                )
                for payload_format in (PayloadFormat.FAKTURIA, PayloadFormat.NITROBOX, PayloadFormat.FLAT)
            },
        }
        by_name = {}
        for name, fields in channels.items():
            channel = Channel.objects.filter(name=name).first()
            if channel is None:
                channel = create_channel(name=name, **fields)
            elif "url" in fields and channel.url != fields["url"]:
                channel = update_channel(channel=channel, changes={"url": fields["url"]})  # follows --base-url
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

        if no_banner:
            self.stdout.write(f"Demo data ready; the demo channels post to {base_url}/demo/.")
        else:
            self.stdout.write(self.style.SUCCESS(login_banner(base_url)))
