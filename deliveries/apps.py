from django.apps import AppConfig
from django.db.models.signals import post_migrate


class DeliveriesConfig(AppConfig):
    name = "deliveries"
    verbose_name = "Deliveries"

    def ready(self):
        from django_q.signals import post_spawn

        from deliveries.engine.runtime import start_in_worker

        # Every qcluster worker process runs a delivery engine (docs/ENGINE.md).
        post_spawn.connect(start_in_worker, dispatch_uid="deliveries.start_engine")
        # After every migrate (and test database flush), so `make run`'s qcluster always has the sweeper.
        post_migrate.connect(_register_after_migrate, sender=self, dispatch_uid="deliveries.register_schedules")


def _register_after_migrate(sender, using="default", plan=None, **kwargs):
    from django.db import connections

    if "django_q_schedule" not in connections[using].introspection.table_names():
        return
    from deliveries.schedules import register_schedules

    register_schedules()
