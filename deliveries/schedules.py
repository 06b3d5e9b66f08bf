"""The django-q2 schedules of the delivery engine, registered idempotently by name."""

from __future__ import annotations

SWEEPER = "postbacks-sweeper"
PURGE = "postbacks-purge"
WATCH = "postbacks-watch"


def register_schedules(**_kwargs) -> None:
    """Create or update the schedules. Safe to call any number of times (post_migrate, demo_setup)."""
    from django.utils import timezone
    from django_q.models import Schedule

    Schedule.objects.update_or_create(
        name=SWEEPER,
        defaults={
            "func": "deliveries.tasks.sweep",
            "schedule_type": Schedule.MINUTES,
            "minutes": 1,
            "repeats": -1,
            # A missed minute is not made up for: the next run sweeps everything anyway.
            "next_run": timezone.now(),
        },
    )
    Schedule.objects.update_or_create(
        name=WATCH,
        defaults={
            "func": "deliveries.tasks.watch",
            "schedule_type": Schedule.MINUTES,
            "minutes": 1,
            "repeats": -1,
            # Each run looks at everything due; a missed minute is not made up for.
            "next_run": timezone.now(),
        },
    )
    Schedule.objects.update_or_create(
        name=PURGE,
        defaults={
            "func": "deliveries.tasks.purge",
            "schedule_type": Schedule.HOURLY,
            "repeats": -1,
        },
    )
