"""REST API: the event catalogue (list, toggle). SPEC section 8.

Events themselves (ingest, list, detail) write and show deliveries, so their view is the
project's: ``webhooks_project.api.event_views``.
"""

from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import mixins
from rest_framework.response import Response

from common.api.views import GenericViewSet
from events.filters import EventTypeFilter
from events.models import EventType
from events.serializers import EventTypeSerializer, EventTypeUpdateSerializer
from events.services import set_event_type_enabled


@extend_schema_view(
    list=extend_schema(summary="List the event catalogue", tags=["event types"]),
    retrieve=extend_schema(summary="One event type", tags=["event types"]),
    partial_update=extend_schema(
        summary="Switch an event type on or off",
        description=(
            "Only `enabled` can be changed. Needs `events.change_eventtype`; switching on an "
            "`on_demand` type also needs `events.enable_on_demand`."
        ),
        request=EventTypeUpdateSerializer,
        examples=[OpenApiExample("Switch on", value={"enabled": True}, request_only=True)],
        responses={200: EventTypeSerializer},
        tags=["event types"],
    ),
)
class EventTypeViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, GenericViewSet):
    queryset = EventType.objects.all()
    serializer_class = EventTypeSerializer
    filterset_class = EventTypeFilter
    lookup_field = "key"
    # Keys are dotted identifiers; anything else is not an event type (404 from the resolver).
    lookup_value_regex = r"[A-Za-z0-9_.\-]+"
    http_method_names = ["get", "patch", "head", "options"]

    def partial_update(self, request, *args, **kwargs):
        event_type = self.get_object()
        data = EventTypeUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        if "enabled" in data.validated_data:
            event_type = set_event_type_enabled(
                event_type=event_type, enabled=data.validated_data["enabled"], user=request.user
            )
        return Response(EventTypeSerializer(event_type).data)
