"""Rewrite every encrypted value under the first key of FIELD_ENCRYPTION_KEYS (key rotation).

Put the new key first, keep the old ones after it, run this, then remove the old keys
(docs/SECURITY.md). Safe to run again, and while the service runs: each channel is re-read
and rewritten under a row lock, one at a time.
"""

from django.core.management.base import BaseCommand
from django.db import transaction

from channels.models import Channel

ENCRYPTED_FIELDS = ("secret", "previous_secret", "older_secrets", "headers")


class Command(BaseCommand):
    help = "Re-encrypt channel secrets and custom headers under the first key of FIELD_ENCRYPTION_KEYS."

    def handle(self, *args, **options):
        done = 0
        for pk in Channel.objects.order_by("pk").values_list("pk", flat=True).iterator(chunk_size=1000):
            with transaction.atomic():
                channel = Channel.objects.select_for_update().only("pk", *ENCRYPTED_FIELDS).filter(pk=pk).first()
                if channel is None:
                    continue  # deleted meanwhile
                # Decrypted with whichever key opens it; written under the first key. No updated_at bump.
                Channel.objects.filter(pk=pk).update(**{f: getattr(channel, f) for f in ENCRYPTED_FIELDS})
            done += 1
        self.stdout.write(self.style.SUCCESS(f"Re-encrypted the secrets and headers of {done} channel(s)."))
