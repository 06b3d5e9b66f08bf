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
from channels.permissions import ROTATE, VIEW_CHANNEL
from channels.serializers import (
    ChannelChangeSerializer,
    ChannelCreatedSerializer,
    ChannelInputSerializer,
    ChannelSerializer,
    RotatedSecretSerializer,
    RotateSecretInputSerializer,
)
from channels.services import create_channel, delete_channel, update_channel
from channels.services import rotate_secret as rotate_channel_secret
from common.api.errors import Conflict, ErrorResponseSerializer
from common.api.pagination import NewestFirstCursorPages, PageNumberPages
from common.api.views import ModelViewSet
from deliveries.api import AttemptsActionMixin
from deliveries.exceptions import NothingToResend, RecoverRefused
from deliveries.filters import AttemptFilter
from deliveries.recovery import RECOVER, start_recover
from deliveries.selectors import attempts_of, channel_stats
from deliveries.serializers import (
    AttemptLogSerializer,
    ChannelStatsSerializer,
    RecoverInputSerializer,
    RecoverJobSerializer,
    StatsWindowSerializer,
    TestSendInputSerializer,
    TestSendResultSerializer,
)
from deliveries.services import SEND_TEST, send_test_event
from webhooks_project.api.examples import ATTEMPT_PAGE_EXAMPLE, STATS_EXAMPLE

VIEW_DELIVERY = "deliveries.view_delivery"


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
        request=ChannelChangeSerializer(partial=True),
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
class ChannelViewSet(AttemptsActionMixin, ModelViewSet):
    # rotate-secret takes an optional {"secret"}, the test send an optional {"event_type"}.
    extra_query_params = {"stats": {"window"}}
    base_queryset = Channel.objects.select_related("breaker")
    serializer_class = ChannelSerializer
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    # The same permissions the services require (common.permissions.Action).
    action_permissions = {
        "test": SEND_TEST.permissions,
        "rotate_secret": ROTATE.permissions,
        "recover": RECOVER.permissions,
        "attempts": (VIEW_CHANNEL, VIEW_DELIVERY),
        "stats": (VIEW_CHANNEL, VIEW_DELIVERY),
    }

    @property
    def pagination_class(self):
        # The attempts of a channel are a big table: cursor pages, as for deliveries.
        return NewestFirstCursorPages if getattr(self, "action", None) == "attempts" else PageNumberPages

    @property
    def filterset_class(self):
        return AttemptFilter if getattr(self, "action", None) == "attempts" else ChannelFilter

    def create(self, request, *args, **kwargs):
        data = ChannelInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        channel = create_channel(**data.validated_data, user=request.user)
        body = ChannelCreatedSerializer(channel, context=self.get_serializer_context()).data
        if "secret" in data.validated_data:
            body["secret"] = None  # the caller's own secret is never echoed
        return Response(body, status=status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        channel = self.get_object()
        data = ChannelInputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        changes = dict(data.validated_data)
        if changes.pop("secret", None) is not None:
            raise ValidationError(
                {"secret": ["Set on create only; to change it, POST channels/{id}/rotate-secret/ with it."]}
            )
        channel = update_channel(channel=channel, changes=changes, user=request.user)
        return Response(ChannelSerializer(channel, context=self.get_serializer_context()).data)

    def destroy(self, request, *args, **kwargs):
        try:
            delete_channel(channel=self.get_object(), user=request.user)
        except ChannelInUse as exc:
            raise Conflict(str(exc)) from exc
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Send a test event",
        description=(
            "Sends a test event to this channel now, with the catalogue's example payload of its type "
            "(`event_type`, default `test`; no body sends `test`), and answers with the outcome of that one "
            "attempt (the endpoint's status, or the error). The delivery is marked `is_test`: it is left out "
            "of the channel's stats, alerts and auto-disable, and is never retried or resent. Needs "
            "`channels.send_test_event`."
        ),
        request=TestSendInputSerializer,
        responses={
            200: TestSendResultSerializer,
            400: OpenApiResponse(
                ErrorResponseSerializer,
                description="`event_type` names no catalogue type, or one this channel cannot get.",
            ),
        },
        tags=["channels"],
    )
    @action(detail=True, methods=["post"])
    def test(self, request, pk=None):
        channel = self.get_object()
        data = TestSendInputSerializer(data=request.data if request.stream else {})
        data.is_valid(raise_exception=True)
        attempt = send_test_event(
            channel=channel, user=request.user, event_type_key=data.validated_data.get("event_type")
        )
        return Response(TestSendResultSerializer(attempt).data)

    @extend_schema(
        summary="Rotate the signing secret",
        description=(
            "Gives the channel a new `whsec_` secret, returned in this answer only. For the grace period "
            "(until `previous_secret_expires_at`) postbacks are signed with both secrets, so receivers can "
            "switch without losing any. Needs `channels.rotate_secret`."
        ),
        request=RotateSecretInputSerializer,
        responses={200: RotatedSecretSerializer},
        tags=["channels"],
    )
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request, pk=None):
        channel = self.get_object()
        data = RotateSecretInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        custom = data.validated_data.get("secret")
        secret = rotate_channel_secret(channel=channel, secret=custom, user=request.user)
        channel.refresh_from_db(fields=["previous_secret_expires_at", "secret_rotated_at"])
        return Response(
            RotatedSecretSerializer(
                {
                    "id": channel.pk,
                    "secret": None if custom else secret,
                    "secret_rotated_at": channel.secret_rotated_at,
                    "previous_secret_expires_at": channel.previous_secret_expires_at,
                }
            ).data
        )

    @extend_schema(
        summary="List the attempts to this channel, newest first",
        description=(
            "Every attempt of every delivery to this channel (test sends included, `trigger` `test`): the "
            "request sent (custom header values and the signature masked), the endpoint's status, headers and "
            "the start of its body, the duration, the trigger and who asked for it. Cursor-paginated: follow "
            "`next`. Filters: `outcome`, `status_code`, `error`, `trigger`, `created_after` / `created_before` "
            "(on the attempt's start). Needs `channels.view_channel` and `deliveries.view_delivery`."
        ),
        filters=True,
        responses={200: AttemptLogSerializer(many=True)},
        examples=[ATTEMPT_PAGE_EXAMPLE],
        tags=["channels"],
    )
    @action(detail=True, methods=["get"])
    def attempts(self, request, pk=None):
        channel = self.get_object()
        queryset = self.filter_queryset(attempts_of(channel_id=channel.pk))
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(AttemptLogSerializer(page, many=True).data)

    @extend_schema(
        summary="Delivery statistics of this channel",
        description=(
            "Over the last `window` (`1h`, `24h` or `7d`; default `24h`): attempts started, how many "
            "succeeded, failed or are in flight, the success rate, the median and 95th-percentile duration; "
            "the latest success and failure ever (not only in the window: a channel failing for 8 days still "
            "shows when it last worked, within retention); and the channel's state now (active, auto-disabled, circuit "
            "breaker). Test sends are not counted. Needs `channels.view_channel` and `deliveries.view_delivery`."
        ),
        parameters=[StatsWindowSerializer],
        responses={200: ChannelStatsSerializer},
        examples=[STATS_EXAMPLE],
        tags=["channels"],
    )
    @action(detail=True, methods=["get"])
    def stats(self, request, pk=None):
        channel = self.get_object()
        # A plain dict, not the QueryDict: DRF reads a QueryDict as a form, where `?window=` means "the default".
        query = StatsWindowSerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        figures = channel_stats(channel_id=channel.pk, window=query.validated_data["window"])
        body = {
            "channel": channel.pk,
            **{f: getattr(figures, f) for f in figures.__dataclass_fields__},
            "success_rate": figures.success_rate,
            "active": channel.active,
            "disabled_at": channel.disabled_at,
            "disabled_reason": channel.disabled_reason,
            "breaker": ChannelSerializer().get_breaker(channel),
        }
        return Response(ChannelStatsSerializer(body).data)

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
