"""REST API: subscriptions (channels attached to event types). SPEC section 8.

The channels themselves (with their test send) are ``webhooks_project.api.channel_views``.
"""

from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from channels.filters import SubscriptionFilter
from channels.models import Subscription
from channels.serializers import SubscriptionCreateSerializer, SubscriptionSerializer, SubscriptionUpdateSerializer
from channels.services import attach_channel, detach_channel, update_subscription
from common.api.views import ModelViewSet


@extend_schema_view(
    list=extend_schema(summary="List subscriptions (channels attached to event types)", tags=["subscriptions"]),
    retrieve=extend_schema(summary="One subscription", tags=["subscriptions"]),
    create=extend_schema(
        summary="Attach a channel to an event type",
        description=(
            "One subscription per (event type, channel). `sources` is a non-empty subset of admin, shop, "
            "funnel. Postback-only event types accept postback channels only."
        ),
        request=SubscriptionCreateSerializer,
        examples=[
            OpenApiExample(
                "Shop and funnel orders to channel 1",
                value={"event_type": "order.completed", "channel": 1, "sources": ["shop", "funnel"]},
                request_only=True,
            ),
        ],
        responses={201: SubscriptionSerializer},
        tags=["subscriptions"],
    ),
    partial_update=extend_schema(
        summary="Change a subscription's sources or active flag",
        request=SubscriptionUpdateSerializer,
        responses={200: SubscriptionSerializer},
        tags=["subscriptions"],
    ),
    destroy=extend_schema(summary="Detach (delete a subscription)", tags=["subscriptions"]),
)
class SubscriptionViewSet(ModelViewSet):
    queryset = Subscription.objects.all()
    serializer_class = SubscriptionSerializer
    filterset_class = SubscriptionFilter
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def create(self, request, *args, **kwargs):
        data = SubscriptionCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        subscription = attach_channel(**data.validated_data, user=request.user)
        return Response(SubscriptionSerializer(subscription).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        subscription = self.get_object()
        fixed = [f for f in ("event_type", "channel") if isinstance(request.data, dict) and f in request.data]
        if fixed:
            raise ValidationError(
                {f: ["Cannot be changed; delete this subscription and attach the channel again."] for f in fixed}
            )
        data = SubscriptionUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        subscription = update_subscription(subscription=subscription, **data.validated_data, user=request.user)
        return Response(SubscriptionSerializer(subscription).data)

    def destroy(self, request, *args, **kwargs):
        detach_channel(subscription=self.get_object(), user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
