"""REST API: events (ingest, list, detail). SPEC sections 3 and 8.

A project view rather than the events app's: ingest is ``emit`` (which writes deliveries,
``deliveries.fanout``) and an event's detail lists its deliveries.
"""

from django.db.models import Prefetch
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from channels.models import Channel
from common.api.pagination import NewestFirstCursorPages
from common.api.views import GenericViewSet
from deliveries.fanout import emit_batch
from deliveries.models import Delivery
from deliveries.recovery import RESEND, resend_event
from deliveries.serializers import DeliveryDetailSerializer, ResendInputSerializer
from events.filters import EventFilter
from events.models import Event
from events.serializers import (
    BatchResponseSerializer,
    EventBatchIngestSerializer,
    EventDetailSerializer,
    EventIngestSerializer,
    EventSerializer,
)
from webhooks_project.api.errors import error_answer


@extend_schema_view(
    list=extend_schema(
        summary="List events, newest first",
        description="Cursor-paginated: follow `next` / `previous`.",
        tags=["events"],
    ),
    retrieve=extend_schema(summary="One event, with the ids of its deliveries", tags=["events"]),
    create=extend_schema(
        summary="Ingest an event",
        description=(
            "Stores the event and queues one delivery per matching subscription. An event of a disabled "
            "type is stored with no deliveries.\n\n"
            "Idempotent by `id`: the same `id` with the same type, source, payload, order_ref and occurred_at "
            "(when given) answers **200** with the stored event and creates nothing; the same `id` with other "
            "content answers **409** `event_conflict`, `differs` naming the fields. "
            "A new event answers **201**. A payload over `WEBHOOKS_MAX_PAYLOAD_BYTES` (its compact JSON) answers **413**; "
            "an unknown type, a bad source, a payload that is not an object or breaks the type's "
            "JSON Schema answer **400** naming the field."
        ),
        request=EventIngestSerializer,
        examples=[
            OpenApiExample(
                "An order was completed in the shop",
                value={
                    "id": "f47ac10b-58cc-4372-a567-0e02b2c3d479",
                    "type": "order.completed",
                    "source": "shop",
                    "order_ref": "A-1001",
                    "occurred_at": "2026-11-23T10:15:00Z",
                    "payload": {"order": {"id": "A-1001", "total": "49.90", "currency": "EUR"}},
                },
                request_only=True,
            ),
        ],
        responses={
            201: OpenApiResponse(EventDetailSerializer, description="A new event was stored."),
            200: OpenApiResponse(
                EventDetailSerializer, description="This id was ingested before with the same content."
            ),
            409: OpenApiResponse(
                inline_serializer(
                    "EventConflict",
                    {
                        "code": serializers.CharField(help_text="event_conflict, or idempotency_key_reused"),
                        "detail": serializers.CharField(),
                        "id": serializers.UUIDField(required=False),
                        "differs": serializers.ListField(
                            child=serializers.CharField(), required=False, help_text="type, source, payload, ..."
                        ),
                    },
                ),
                description="This id was ingested before with other content (`differs` names it).",
            ),
        },
        tags=["events"],
    ),
)
class EventViewSet(mixins.CreateModelMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, GenericViewSet):
    queryset = Event.objects.all()
    filterset_class = EventFilter
    pagination_class = NewestFirstCursorPages
    cursor_ordering = ("-created_at", "-id")
    http_method_names = ["get", "post", "head", "options"]
    action_permissions = {"resend": RESEND.permissions}

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.action == "retrieve":
            queryset = queryset.prefetch_related(
                Prefetch("deliveries", queryset=Delivery.objects.only("id", "event_id"))
            )
        return queryset

    def get_serializer_class(self):
        if self.action == "list":
            return EventSerializer
        if self.action == "create":
            return EventIngestSerializer
        return EventDetailSerializer

    def create(self, request, *args, **kwargs):
        data = EventIngestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        # The batch's path with one item: it knows the new deliveries' ids without reading them back.
        [outcome] = emit_batch([_emit_arguments(data.validated_data)])
        if outcome.event is None:
            raise outcome.error
        body = EventSerializer(outcome.event).data
        body["deliveries"] = outcome.deliveries
        return Response(body, status=status.HTTP_201_CREATED if outcome.status == 201 else status.HTTP_200_OK)

    @extend_schema(
        summary="Ingest up to 100 events in one call",
        description=(
            "Each item of `events` is what `POST events/` takes, and gets the answer it would get alone, in "
            "`results` in the same order: `status` 201 (new), 200 (this id with the same content), 409 "
            "(this id with other content), 400 or 413 with `error` in the API's error shape. Items are "
            "independent: a bad one does not stop the others. The call itself answers **200** when the "
            "list could be read, **400** when not (not a list, empty, over 100 items)."
        ),
        request=EventBatchIngestSerializer,
        examples=[
            OpenApiExample(
                "Two events",
                value={
                    "events": [
                        {"type": "order.completed", "source": "shop", "payload": {"order": {"id": "A-1"}}},
                        {"type": "order.completed", "source": "funnel", "payload": {"order": {"id": "A-2"}}},
                    ]
                },
                request_only=True,
            ),
        ],
        responses={200: OpenApiResponse(BatchResponseSerializer, description="One result per item, in order.")},
        tags=["events"],
    )
    @action(detail=False, methods=["post"], url_path="batch")
    def batch(self, request):
        data = EventBatchIngestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        items = data.validated_data["events"]
        results: list[dict | None] = [None] * len(items)
        to_emit, positions = [], []
        for index, item in enumerate(items):
            one = EventIngestSerializer(data=item)
            if not one.is_valid():
                _status, error = error_answer(ValidationError(one.errors))
                results[index] = {"index": index, "status": 400, "error": error}
                continue
            to_emit.append(_emit_arguments(one.validated_data))
            positions.append(index)
        for index, outcome in zip(positions, emit_batch(to_emit), strict=True):
            if outcome.event is not None:
                body = EventSerializer(outcome.event).data
                body["deliveries"] = outcome.deliveries
                results[index] = {"index": index, "status": outcome.status, "event": body}
            else:
                _status, error = error_answer(outcome.error)
                results[index] = {"index": index, "status": outcome.status, "error": error}
        return Response({"results": results}, status=status.HTTP_200_OK)

    @extend_schema(
        summary="Resend an event to one channel",
        description=(
            "A new delivery with trigger `resend` to a channel attached to the event's type, also one "
            "attached after the event happened (replay). **201** with the delivery; **400** naming "
            "`channel` for a channel that does not exist, is not attached to the type, is inactive or is "
            "of a kind the type may not go to. Needs `deliveries.resend`."
        ),
        request=ResendInputSerializer,
        responses={201: OpenApiResponse(DeliveryDetailSerializer, description="The new delivery, queued.")},
        tags=["events"],
    )
    @action(detail=True, methods=["post"])
    def resend(self, request, pk=None):
        event = self.get_object()
        data = ResendInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        channel = Channel.objects.filter(pk=data.validated_data["channel"]).first()
        if channel is None:
            raise ValidationError({"channel": ["No channel with this id."]})
        delivery = resend_event(actor=request.user, event=event, channel=channel)
        delivery = Delivery.objects.prefetch_related("attempts").get(pk=delivery.pk)
        return Response(DeliveryDetailSerializer(delivery).data, status=status.HTTP_201_CREATED)


def _emit_arguments(fields: dict) -> dict:
    """An ingest serializer's validated data as ``emit_batch`` takes an item."""
    return {
        "key": fields["type"],
        "source": fields["source"],
        "payload": fields["payload"],
        "event_id": fields.get("id"),
        "order_ref": fields.get("order_ref") or None,
        "occurred_at": fields.get("occurred_at"),
    }
