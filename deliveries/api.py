"""REST API: the delivery log (list, detail) and manual retry. SPEC section 8."""

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from common.api.errors import Conflict, ErrorResponseSerializer
from common.api.pagination import NewestFirstCursorPages
from common.api.views import GenericViewSet
from deliveries.exceptions import RetryRefused
from deliveries.filters import AttemptFilter, DeliveryFilter
from deliveries.models import Attempt, Delivery, RecoverJob
from deliveries.selectors import attempts_of
from deliveries.serializers import (
    AttemptLogSerializer,
    DeliveryDetailSerializer,
    DeliverySerializer,
    RecoverJobSerializer,
)
from deliveries.services import RETRY, request_manual_retry


class AttemptsActionMixin:
    """For a viewset with an ``attempts`` action listing ``Attempt`` rows (its ``queryset`` is ``base_queryset``).

    drf-spectacular reads a list's filter parameters from the view's ``queryset`` model, which
    must then be the attempts' own while the schema is generated.
    """

    @property
    def queryset(self):
        if getattr(self, "swagger_fake_view", False) and getattr(self, "action", None) == "attempts":
            return Attempt.objects.none()
        return self.base_queryset

    def filter_queryset(self, queryset):
        if getattr(self, "action", None) == "attempts" and queryset.model is not Attempt:
            return queryset  # get_object's lookup of the delivery or channel: the filters are the attempts'
        return super().filter_queryset(queryset)


@extend_schema_view(
    list=extend_schema(
        summary="List deliveries, newest first",
        description="Cursor-paginated: follow `next` / `previous`.",
        tags=["deliveries"],
    ),
    retrieve=extend_schema(summary="One delivery, with its attempts", tags=["deliveries"]),
)
class DeliveryViewSet(AttemptsActionMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, GenericViewSet):
    base_queryset = Delivery.objects.all()
    pagination_class = NewestFirstCursorPages
    cursor_ordering = "-id"
    action_permissions = {"retry": RETRY.permissions}
    bodyless_actions = frozenset({"retry"})

    @property
    def filterset_class(self):
        return AttemptFilter if getattr(self, "action", None) == "attempts" else DeliveryFilter

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.action in ("retrieve", "retry"):
            queryset = queryset.prefetch_related("attempts")
        return queryset

    def get_serializer_class(self):
        return DeliverySerializer if self.action == "list" else DeliveryDetailSerializer

    @extend_schema(
        summary="Retry a failed delivery by hand",
        description=(
            "Queues one manual attempt (recorded with your user; automatic retries do not restart) and "
            "answers **202** with the delivery, now `pending` with `pending_trigger` `manual`. "
            "**409** with the reason when the delivery may not be retried: it has not failed, or its event "
            "type does not allow manual retries. Needs `deliveries.retry_delivery`."
        ),
        request=None,
        responses={
            202: OpenApiResponse(DeliveryDetailSerializer, description="The manual attempt is queued."),
            409: OpenApiResponse(
                ErrorResponseSerializer, description="This delivery may not be retried; `detail` says why."
            ),
        },
        tags=["deliveries"],
    )
    @action(detail=True, methods=["post"])
    def retry(self, request, pk=None):
        delivery = self.get_object()
        try:
            delivery = request_manual_retry(delivery=delivery, user=request.user)
        except RetryRefused as exc:
            raise Conflict(str(exc)) from exc
        delivery = self.get_queryset().get(pk=delivery.pk)
        return Response(DeliveryDetailSerializer(delivery).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        summary="List the attempts of this delivery, newest first",
        description=(
            "Each exchange with the endpoint: the request sent (custom header values and the signature "
            "masked), the endpoint's status, headers and the start of its body, the duration, the trigger "
            "(`automatic`, `manual`, `test`, `resend`) and who asked for it. Cursor-paginated: follow `next`. "
            "Filters: `outcome`, `status_code`, `error`, `trigger`, `created_after` / `created_before` (on the "
            "attempt's start). Needs `deliveries.view_delivery`."
        ),
        filters=True,
        responses={200: AttemptLogSerializer(many=True)},
        tags=["deliveries"],
    )
    @action(detail=True, methods=["get"])
    def attempts(self, request, pk=None):
        delivery = self.get_object()
        queryset = self.filter_queryset(attempts_of(delivery_id=delivery.pk))
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(AttemptLogSerializer(page, many=True).data)


@extend_schema_view(
    retrieve=extend_schema(
        summary="One recover job: its status and progress",
        description="`done` of `total` looked at, `resent`, `skipped`, and a `summary` once `done`.",
        tags=["deliveries"],
    ),
)
class RecoverJobViewSet(mixins.RetrieveModelMixin, GenericViewSet):
    queryset = RecoverJob.objects.all()
    serializer_class = RecoverJobSerializer
    action_permissions = {"retrieve": ("deliveries.view_delivery", "channels.view_channel")}
