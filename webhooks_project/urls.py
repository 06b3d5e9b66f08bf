from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "Postbacks"
admin.site.site_title = "Postbacks admin"
admin.site.index_title = "Postback notifications"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("webhooks_project.api.urls")),
    path("demo/", include("deliveries.demo_urls")),
]
