from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from webhooks_project.health import healthz, readyz
from webhooks_project.metrics import metrics

admin.site.site_header = "Postbacks"
admin.site.site_title = "Postbacks admin"
admin.site.index_title = "Postback notifications"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("webhooks_project.api.urls")),
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("metrics", metrics, name="metrics"),
]
# The demo receiver takes anonymous posts: it exists only for `make run` (DEBUG) or when asked for.
if settings.DEBUG or settings.WEBHOOKS_DEMO:
    urlpatterns.append(path("demo/", include("deliveries.demo_urls")))
