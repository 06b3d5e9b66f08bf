"""The built-in demo receiver of ``make run`` (see ``deliveries.demo_views``)."""

from django.urls import path

from deliveries import demo_views

app_name = "demo"

urlpatterns = [
    path("receiver/", demo_views.receiver, name="receiver"),
    path("slack/", demo_views.slack, name="slack"),
]
