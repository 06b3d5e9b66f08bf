"""REST API routes: /api/v1/ (SPEC section 8), the OpenAPI schema and its offline docs page."""

from django.conf import settings
from django.http import JsonResponse
from django.urls import Resolver404, include, path, re_path, resolve
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import OpenApiExample, extend_schema, inline_serializer
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.routers import DefaultRouter
from rest_framework.views import APIView

from channels.api import SubscriptionViewSet
from common.api.views import StrictAPIMixin
from deliveries.api import DeliveryViewSet, RecoverJobViewSet
from events.api import EventTypeViewSet
from webhooks_project.api.channel_views import ChannelViewSet
from webhooks_project.api.event_views import EventViewSet


@csrf_exempt
def not_found(request, *args, **kwargs):
    """Anything under /api/ that no route matches: JSON, like every other API answer, not Django's HTML page.

    It also stands in for APPEND_SLASH's redirect, which would drop a POST's body: the
    answer says where the slash goes instead.
    """
    detail = "Not found."
    if not request.path.endswith("/"):
        try:
            with_slash = resolve(request.path + "/")
        except Resolver404:
            with_slash = None
        if with_slash is not None and with_slash.func is not not_found:
            detail = f"Not found. API paths end with a slash: {request.path}/"
    return JsonResponse({"code": "not_found", "detail": detail}, status=404)


class APIRoot(StrictAPIMixin, APIView):
    """``GET /api/v1/``: what is here, and where the reference is. Public, like the schema."""

    permission_classes = [AllowAny]

    @extend_schema(
        summary="The API's root: its resources and its reference",
        description="Links to every collection, the OpenAPI schema and the docs page. Needs no token.",
        responses={
            200: inline_serializer(
                "APIRoot",
                {
                    "version": serializers.CharField(),
                    "resources": serializers.DictField(child=serializers.URLField()),
                    "schema": serializers.URLField(),
                    "docs": serializers.URLField(),
                },
            )
        },
        examples=[
            OpenApiExample(
                "The root",
                value={
                    "version": "0.1.0",
                    "resources": {"events": "https://postbacks.example.com/api/v1/events/"},
                    "schema": "https://postbacks.example.com/api/schema/",
                    "docs": "https://postbacks.example.com/api/docs/",
                },
                response_only=True,
            )
        ],
        tags=["root"],
    )
    def get(self, request):
        resources = {
            prefix: request.build_absolute_uri(f"/api/v1/{prefix}/") for prefix, _viewset, _basename in router.registry
        }
        return Response(
            {
                "version": settings.SPECTACULAR_SETTINGS.get("VERSION", ""),
                "resources": resources,
                "schema": reverse("api-schema", request=request),
                "docs": reverse("api-docs", request=request),
            }
        )


router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("event-types", EventTypeViewSet, basename="event-type")
router.register("channels", ChannelViewSet, basename="channel")
router.register("subscriptions", SubscriptionViewSet, basename="subscription")
router.register("events", EventViewSet, basename="event")
router.register("deliveries", DeliveryViewSet, basename="delivery")
router.register("recover-jobs", RecoverJobViewSet, basename="recover-job")

urlpatterns = [
    path("v1/", APIRoot.as_view(), name="api-root"),
    path("v1/", include(router.urls)),
    # The schema and its docs page are public, like any API reference; every call they
    # describe needs a token.
    path("schema/", SpectacularAPIView.as_view(permission_classes=[AllowAny]), name="api-schema"),
    # The split view serves Swagger UI's initialiser as a file (docs/?script=), not inline: the
    # Content-Security-Policy allows no inline script.
    path(
        "docs/",
        SpectacularSwaggerSplitView.as_view(
            url_name="api-schema", permission_classes=[AllowAny], template_name="api/swagger_ui.html"
        ),
        name="api-docs",
    ),
    re_path(r"", not_found),
]
