"""REST API: channels (CRUD, test send, secret rotation). SPEC section 8.

A project view rather than the channels app's, because the test send is a delivery
(``deliveries.services``). Every write is a service of ``channels.services``.
"""

from django.urls import reverse
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from channels.exceptions import ChannelInUse
from channels.filters import ChannelFilter
from channels.models import Channel
from channels.permissions import ROTATE
from channels.serializers import (
    ChannelCreatedSerializer,
    ChannelInputSerializer,
    ChannelSerializer,
    RotatedSecretSerializer,
)
from channels.services import create_channel, delete_channel, update_channel
from channels.services import rotate_secret as rotate_channel_secret
from common.api.errors import Conflict, ErrorResponseSerializer
from common.api.views import ModelViewSet
from deliveries.exceptions import NothingToResend, RecoverRefused
from deliveries.recovery import RECOVER, start_recover
from deliveries.serializers import RecoverInputSerializer, RecoverJobSerializer, TestSendResultSerializer
from deliveries.services import SEND_TEST, send_test_event


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
        summary="Delete a channel",
        description=(
            "Only a channel with no deliveries in its log (its subscriptions go with it). A channel with "
            "deliveries answers **409**: deactivate it instead (`PATCH` with `active: false`)."
        ),
        responses={
            204: None,
            409: OpenApiResponse(
                ErrorResponseSerializer, description="The channel has deliveries; `detail` says what to do."
            ),
        },
        tags=["channels"],
    ),
)
class ChannelViewSet(ModelViewSet):
    bodyless_actions = frozenset({"test", "rotate_secret"})
    queryset = Channel.objects.select_related("breaker")
    serializer_class = ChannelSerializer
    filterset_class = ChannelFilter
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    # The same permissions the services require (common.permissions.Action).
    action_permissions = {
        "test": SEND_TEST.permissions,
        "rotate_secret": ROTATE.permissions,
        "recover": RECOVER.permissions,
    }

    def create(self, request, *args, **kwargs):
        data = ChannelInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        channel = create_channel(**data.validated_data, user=request.user)
        return Response(
            ChannelCreatedSerializer(channel, context=self.get_serializer_context()).data,
            status=status.HTTP_201_CREATED,
        )

    def partial_update(self, request, *args, **kwargs):
        channel = self.get_object()
        data = ChannelInputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        channel = update_channel(channel=channel, changes=data.validated_data, user=request.user)
        return Response(ChannelSerializer(channel, context=self.get_serializer_context()).data)

    def destroy(self, request, *args, **kwargs):
        try:
            delete_channel(channel=self.get_object(), user=request.user)
        except ChannelInUse as exc:
            raise Conflict(str(exc)) from exc
        return Response(status=status.HTTP_204_NO_CONTENT)

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
        secret = rotate_channel_secret(channel=channel, user=request.user)
        channel.refresh_from_db(fields=["previous_secret_expires_at"])
        return Response(
            RotatedSecretSerializer(
                {"id": channel.pk, "secret": secret, "previous_secret_expires_at": channel.previous_secret_expires_at}
            ).data
        )

    @extend_schema(
        summary="Recover: resend what failed to this channel",
        description=(
            "Starts a job resending every delivery to this channel that failed since `since` (until "
            "`until`, only `event_types` if given), each one at most once however often it is asked. "
            "**202** with the job and its `Location`; follow it at `GET recover-jobs/{id}/`. **400** naming "
            "the field for `since` in the future, `until` before `since`, unknown types, or a disabled "
            "channel without `reenable: true`; **400** with `detail` when there is nothing to resend "
            "(no job is created); **409** while another recover of this channel is queued or running. "
            "Needs `deliveries.recover`."
        ),
        request=RecoverInputSerializer,
        responses={
            202: OpenApiResponse(RecoverJobSerializer, description="The job is queued."),
            400: OpenApiResponse(ErrorResponseSerializer, description="Bad input, or nothing to resend."),
            409: OpenApiResponse(ErrorResponseSerializer, description="A recover of this channel is running."),
        },
        tags=["channels"],
    )
    @action(detail=True, methods=["post"])
    def recover(self, request, pk=None):
        channel = self.get_object()
        data = RecoverInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            job = start_recover(actor=request.user, channel=channel, **data.validated_data)
        except NothingToResend as exc:
            raise ValidationError({"detail": str(exc)}) from exc
        except RecoverRefused as exc:
            raise Conflict(str(exc)) from exc
        location = request.build_absolute_uri(reverse("recover-job-detail", args=[job.pk]))
        return Response(RecoverJobSerializer(job).data, status=status.HTTP_202_ACCEPTED, headers={"Location": location})
