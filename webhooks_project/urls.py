from django.conf import settings
from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from django.views.generic import RedirectView

from webhooks_project.health import healthz, readyz
from webhooks_project.metrics import metrics

admin.site.site_header = "Postbacks"
admin.site.site_title = _("Postbacks admin")
admin.site.index_title = _("Dashboard")
# There is no public site: no "View site" link (it led to a 404).
admin.site.site_url = None

urlpatterns = [
    # The service has no pages of its own besides the admin: / opens it.
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False), name="home"),
    path("favicon.ico", RedirectView.as_view(url=static("staff/favicon.svg"), permanent=True)),
    path("admin/", admin.site.urls),
    # Django's set_language view (POST, CSRF-checked): the header's language switch.
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/", include("webhooks_project.api.urls")),
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("metrics", metrics, name="metrics"),
]
# The demo receiver takes anonymous posts: it exists only for `make run` (DEBUG) or when asked for.
if settings.DEBUG or settings.WEBHOOKS_DEMO:
    urlpatterns.append(path("demo/", include("deliveries.demo_urls")))
