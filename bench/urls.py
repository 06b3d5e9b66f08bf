"""Production URLs plus the trivial view the ingest scenario compares against.

Only the bench settings use this module, so production URLs stay clean.
"""

from django.urls import path

from bench.views import TrivialIngestView
from webhooks_project.urls import urlpatterns as production_urlpatterns

urlpatterns = [
    path("bench/trivial/", TrivialIngestView.as_view(), name="bench-trivial"),
    *production_urlpatterns,
]
