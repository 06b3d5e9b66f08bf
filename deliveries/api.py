"""REST API: the delivery log (list, detail) and manual retry. SPEC section 8."""

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from common.api.errors import Conflict, ErrorResponseSerializer
from common.api.pagination import NewestFirstCursorPages
from common.api.views import GenericViewSet
from deliveries.exceptions import RetryRefused
from deliveries.filters import DeliveryFilter
from deliveries.models import Delivery, RecoverJob
from deliveries.serializers import DeliveryDetailSerializer, DeliverySerializer, RecoverJobSerializer
from deliveries.services import RETRY, request_manual_retry


@extend_schema_view(
    list=extend_schema(
        summary="List deliveries, newest first",
        description="Cursor-paginated: follow `next` / `previous`.",
        tags=["deliveries"],
    ),
    retrieve=extend_schema(summary="One delivery, with its attempts", tags=["deliveries"]),
)
class DeliveryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, GenericViewSet):
    queryset = Delivery.objects.all()
    filterset_class = DeliveryFilter
    pagination_class = NewestFirstCursorPages
    cursor_ordering = "-id"
    action_permissions = {"retry": RETRY.permissions}
    bodyless_actions = frozenset({"retry"})

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
