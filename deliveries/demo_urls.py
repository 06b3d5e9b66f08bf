"""The built-in demo receiver of ``make run``. Filled in by the delivery engine work."""

urlpatterns = []
