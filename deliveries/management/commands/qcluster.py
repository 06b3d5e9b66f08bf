"""django-q2's ``qcluster``, with task queues that survive a worker killed while it waits.

See ``deliveries/engine/safe_queue.py`` and docs/ENGINE.md ("The cluster that wedged").
``deliveries`` is listed before ``django_q`` in INSTALLED_APPS so this command is the one
``manage.py qcluster`` runs.
"""

from django_q.management.commands.qcluster import Command as QClusterCommand

from deliveries.engine import safe_queue


class Command(QClusterCommand):
    def handle(self, *args, **options):
        safe_queue.install()
        return super().handle(*args, **options)
