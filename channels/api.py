"""REST API: channels (CRUD, test send, secret rotation) and subscriptions. SPEC section 8."""

from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from channels.filters import ChannelFilter, SubscriptionFilter
from channels.models import Channel, ChannelKind, Subscription, generate_secret
from channels.serializers import (
    ChannelCreatedSerializer,
    ChannelInputSerializer,
    ChannelSerializer,
    RotatedSecretSerializer,
    SubscriptionCreateSerializer,
    SubscriptionSerializer,
    SubscriptionUpdateSerializer,
)
from channels.services import attach_channel, update_subscription
from channels.services import rotate_secret as rotate_channel_secret
from deliveries.serializers import TestSendResultSerializer
from deliveries.services import send_test_event

CHANNEL_FIELDS = ("name", "kind", "url", "email_to", "headers", "timeout", "active")


@extend_schema_view(
    list=extend_schema(summary="List channels", tags=["channels"]),
    retrieve=extend_schema(summary="One channel", tags=["channels"]),
    create=extend_schema(
        summary="Create a channel",
        description=(
            "Postback channels get a `whsec_` signing secret, returned in this answer only. "
            "URLs must be http(s) and may not point at internal addresses; header names and values "
            "may not contain CR or LF nor override the Standard Webhooks headers."
        ),
        request=ChannelInputSerializer,
        examples=[
            OpenApiExample(
                "A postback endpoint",
                value={
                    "name": "Shop backend",
                    "kind": "postback",
                    "url": "https://hooks.example.com/postbacks",
                    "headers": {"X-Tenant": "42"},
                    "timeout": 10,
                },
                request_only=True,
            ),
            OpenApiExample(
                "An email channel",
                value={"name": "Ops mailbox", "kind": "email", "email_to": "ops@example.com"},
                request_only=True,
            ),
        ],
        responses={201: ChannelCreatedSerializer},
        tags=["channels"],
    ),
    partial_update=extend_schema(
        summary="Change a channel",
        description="Any field but `kind` (fixed once created). The secret is not returned.",
        request=ChannelInputSerializer(partial=True),
        responses={200: ChannelSerializer},
        tags=["channels"],
    ),
    destroy=extend_schema(
        summary="Delete a channel", description="Its subscriptions and delivery log go with it.", tags=["channels"]
    ),
)
class ChannelViewSet(viewsets.ModelViewSet):
    queryset = Channel.objects.all()
    serializer_class = ChannelSerializer
    filterset_class = ChannelFilter
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    action_permissions = {
        "test": ["channels.view_channel", "channels.send_test_event"],
        "rotate_secret": ["channels.view_channel", "channels.rotate_secret"],
    }

    def create(self, request, *args, **kwargs):
        data = ChannelInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        channel = Channel(**data.validated_data)
        if channel.kind == ChannelKind.POSTBACK:
            # Made here rather than in save() so that full_clean() sees the secret the
            # database constraint requires.
            channel.secret = generate_secret()
        channel.full_clean()
        channel.save()
        return Response(ChannelCreatedSerializer(channel).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        channel = self.get_object()
        data = ChannelInputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        changes = data.validated_data
        if "kind" in changes and changes["kind"] != channel.kind:
            raise ValidationError({"kind": ["The kind of a channel cannot be changed; create a new channel."]})
        for field, value in changes.items():
            setattr(channel, field, value)
        channel.full_clean()
        # Only the fields sent: a concurrent rotation's secret columns are left alone.
        channel.save(update_fields=[*changes.keys(), "updated_at"])
        return Response(ChannelSerializer(channel).data)

    @extend_schema(
        summary="Send the test event",
        description=(
            "Sends the `test` event with the catalogue's dummy payload to this channel now and answers "
            "with the outcome of that one attempt (the endpoint's status, or the error). Needs "
            "`channels.send_test_event`."
        ),
        request=None,
        responses={200: TestSendResultSerializer},
        tags=["channels"],
    )
    @action(detail=True, methods=["post"])
    def test(self, request, pk=None):
        channel = self.get_object()
        attempt = send_test_event(channel=channel, user=request.user)
        return Response(TestSendResultSerializer(attempt).data)

    @extend_schema(
        summary="Rotate the signing secret",
        description=(
            "Gives the channel a new `whsec_` secret, returned in this answer only. For the grace period "
            "(until `previous_secret_expires_at`) postbacks are signed with both secrets, so receivers can "
            "switch without losing any. Needs `channels.rotate_secret`."
        ),
        request=None,
        responses={200: RotatedSecretSerializer},
        tags=["channels"],
    )
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request, pk=None):
        channel = self.get_object()
        secret = rotate_channel_secret(channel=channel)
        channel.refresh_from_db(fields=["previous_secret_expires_at"])
        return Response(
            RotatedSecretSerializer(
                {"id": channel.pk, "secret": secret, "previous_secret_expires_at": channel.previous_secret_expires_at}
            ).data
        )


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
class SubscriptionViewSet(viewsets.ModelViewSet):
    queryset = Subscription.objects.all()
    serializer_class = SubscriptionSerializer
    filterset_class = SubscriptionFilter
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def create(self, request, *args, **kwargs):
        data = SubscriptionCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        subscription = attach_channel(**data.validated_data)
        return Response(SubscriptionSerializer(subscription).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        subscription = self.get_object()
        data = SubscriptionUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fixed = [f for f in ("event_type", "channel") if f in request.data]
        if fixed:
            raise ValidationError(
                {f: ["Cannot be changed; delete this subscription and attach the channel again."] for f in fixed}
            )
        subscription = update_subscription(subscription=subscription, **data.validated_data)
        return Response(SubscriptionSerializer(subscription).data)
