"""Create or update the delivery engine's django-q2 schedules (also done after every migrate)."""

from django.core.management.base import BaseCommand

from deliveries.schedules import PURGE, SWEEPER, WATCH, register_schedules


class Command(BaseCommand):
    help = "Register the sweeper and purge schedules (idempotent)."

    def handle(self, *args, **options):
        register_schedules()
        self.stdout.write(f"Registered schedules {SWEEPER!r}, {WATCH!r} and {PURGE!r}.")
