"""Delete events (with their deliveries) and attempts older than the retention, in batches."""

from django.conf import settings
from django.core.management.base import BaseCommand

from deliveries.services import purge_old_records


class Command(BaseCommand):
    help = "Purge events and delivery attempts older than WEBHOOKS_RETENTION_DAYS (in batches)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--days", type=int, default=None, help="Keep this many days (default: WEBHOOKS_RETENTION_DAYS)."
        )
        parser.add_argument("--batch-size", type=int, default=1000)
        parser.add_argument(
            "--max-seconds", type=float, default=3600.0, help="Stop after this long; run again to continue."
        )

    def handle(self, *args, days, batch_size, max_seconds, **options):
        days = days or settings.WEBHOOKS_RETENTION_DAYS
        if days < 1:
            self.stderr.write("--days must be at least 1")
            return
        purged = purge_old_records(days=days, batch_size=batch_size, max_seconds=max_seconds)
        self.stdout.write(f"Purged {purged['events']} events and {purged['attempts']} attempts older than {days} days.")
