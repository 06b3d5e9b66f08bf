from django.apps import AppConfig


class ChannelsConfig(AppConfig):
    name = "channels"
    verbose_name = "Integrations"

    def ready(self):
        from channels import routing  # noqa: F401  (connects the signals that keep routing caches fresh)
