from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("webhooks_project.api_urls")),
    path("demo/", include("deliveries.demo_urls")),
]
