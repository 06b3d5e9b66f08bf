"""Staff pages that need more than one app: System notifications (the catalogue and its attached
channels), Orders (events with their deliveries and a Retry), Channels (with delivery health and
the test send), the Audit trail. Each app's own pages are in its ``admin.py``. Importing the modules registers them.
"""

from webhooks_project.admin import audit, channel_pages, order_pages, system_notifications  # noqa: F401
