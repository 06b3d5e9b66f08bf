"""Channels in the admin (SPEC section 7): a form per kind, test send, reveal/rotate secret, recent health.

A project page rather than the channels app's, because it shows delivery health and sends
test events (``deliveries``). Creating, changing, deleting and rotating go through
``channels.services``; the test send through ``deliveries.services``.

Buttons that act (test send, reveal, rotate) are POST forms on their own routes, each
behind its own permission (``UserAdmin``'s pattern: ``get_urls`` before the defaults,
``admin_view``, permission, message or page, redirect). The permission is the service's
own (``Action.allows``), and the service records the audit entry.

Custom header values are shown masked to users who may not reveal secrets
(``channels.masking``): the object the page is built from carries masked values, and a
save that sends them back unchanged keeps the stored ones (``update_channel``).
"""

import json
from dataclasses import dataclass

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import time_format
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.timezone import localtime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from channels.kinds import ChannelKind
from channels.masking import headers_for
from channels.models import MAX_TIMEOUT_S, Channel
from channels.permissions import REVEAL, ROTATE
from channels.services import (
    ATTACH_PERMISSION,
    CHANNEL_FIELDS,
    create_channel,
    delete_channel,
    delete_refusal,
    reveal_secret,
    rotate_secret,
    update_channel,
)
from common.admin import ServiceAuditedAdminMixin, safe_next_url
from common.audit import audit_page_url, history_of
from common.timefmt import exact_time, relative_time, staff_time_html
from deliveries.explain import attempt_reason
from deliveries.recovery import RECOVER
from deliveries.selectors import channel_activity, channel_health, last_failure_of, recent_attempts_of, recent_tests_of
from deliveries.services import SEND_TEST, preview_test_send, send_test_event, types_for_test_send
from events.catalogue import TEST_EVENT_TYPE
from events.formats import EXPLANATIONS, PayloadFormat
from events.models import EventType
from webhooks_project.admin.channel_charts import activity_charts, seven_day_buckets
from webhooks_project.admin.channel_reenable import ReenableChannelMixin
from webhooks_project.admin.format_examples import format_examples
from webhooks_project.admin.recover_pages import latest_job, recover_urls

# The form says which kind of channel it makes or edits (the kind is chosen once, on the page before).
KIND_TITLES_NEW = {
    ChannelKind.POSTBACK: gettext_lazy("New postback channel"),
    ChannelKind.SLACK: gettext_lazy("New Slack channel"),
    ChannelKind.EMAIL: gettext_lazy("New e-mail channel"),
}
KIND_TITLES = {
    ChannelKind.POSTBACK: gettext_lazy("Postback channel: %(name)s"),
    ChannelKind.SLACK: gettext_lazy("Slack channel: %(name)s"),
    ChannelKind.EMAIL: gettext_lazy("E-mail channel: %(name)s"),
}

KIND_FIELDS = {
    ChannelKind.POSTBACK: ["name", "kind", "url", "format", "headers", "timeout", "active", "description", "metadata"],
    ChannelKind.SLACK: ["name", "kind", "url", "timeout", "active", "description", "metadata"],
    ChannelKind.EMAIL: ["name", "kind", "email_to", "active", "description", "metadata"],
}


class ChannelChangeList(ChangeList):
    """Adds each shown channel's last-24-hour health, in one query for the whole page."""

    def get_results(self, request):
        super().get_results(request)
        health = channel_health(channel_ids=[c.pk for c in self.result_list])
        for channel in self.result_list:
            channel.health = health.get(channel.pk)


def with_reasons(attempts, *, channel) -> list:
    attempts = list(attempts)
    for attempt in attempts:
        attempt.reason = attempt_reason(attempt, timeout_s=channel.timeout)
    return attempts


@dataclass(frozen=True)
class ChannelState:
    """Active, cooling off or disabled, with why: the first thing the channel page says."""

    key: str  # active, cooling, probing, disabled
    label: str
    reason: str = ""


def channel_state(channel) -> ChannelState:
    if not channel.active:
        if channel.is_auto_disabled:
            return ChannelState(
                "disabled",
                _("Disabled automatically"),
                _("Since %(when)s: %(reason)s")
                % {"when": exact_time(channel.disabled_at), "reason": channel.disabled_reason},
            )
        return ChannelState("disabled", _("Deactivated"), _("Switched off by staff: nothing is sent to it."))
    breaker = getattr(channel, "breaker", None) if hasattr(channel, "breaker") else None
    if breaker is not None and breaker.state == "open" and breaker.open_until and breaker.open_until > timezone.now():
        return ChannelState(
            "cooling",
            _("Cooling off"),
            _("%(n)d timeouts or refused connections in a row; sending again %(when)s (%(exact)s).")
            % {
                "n": breaker.consecutive_failures,
                "when": relative_time(breaker.open_until),
                "exact": exact_time(breaker.open_until),
            },
        )
    if breaker is not None and breaker.state == "half_open":
        return ChannelState(
            "cooling", _("Probing"), _("After a cool-off, one delivery is sent to see whether the endpoint is back.")
        )
    return ChannelState("active", _("Active"), _("Deliveries are sent as events happen."))


class HeaderLinesField(forms.CharField):
    """Custom headers as ``Name: value`` lines, one a line; stored (and sent over the API) as the same JSON
    object as before. A JSON object typed or posted as it is is accepted too. The rules on names and
    values are the model's (``channels.validation.validate_headers``)."""

    def __init__(self, **kwargs):
        kwargs.setdefault(
            "widget", forms.Textarea(attrs={"rows": 4, "spellcheck": "false", "class": "vLargeTextField"})
        )
        super().__init__(**kwargs)

    def prepare_value(self, value):
        if isinstance(value, dict):
            return "\n".join(f"{name}: {text}" for name, text in value.items())
        return value

    def to_python(self, value):
        text = super().to_python(value)
        if not text:
            return {}
        if text.startswith("{"):
            try:
                parsed = json.loads(text)
            except ValueError:
                raise ValidationError(_("Write one header a line, as Name: value."), code="invalid") from None
            return parsed
        headers = {}
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            name, colon, value = line.partition(":")
            if not colon or not name.strip():
                raise ValidationError(
                    _("Line %(n)d: write each header as Name: value.") % {"n": number}, code="invalid"
                )
            headers[name.strip()] = value.strip()
        return headers

    def has_changed(self, initial, data):
        try:
            return self.to_python(data) != (initial or {})
        except ValidationError:
            return True


class ChannelForm(forms.ModelForm):
    """The admin's channel form. A post without ``format`` (a script written before formats) keeps the stored one."""

    def clean_format(self):
        value = self.cleaned_data.get("format")
        return value or self.instance.format or PayloadFormat.STANDARD

    def _update_errors(self, errors):
        # An invalid URL already has its error ("Enter a valid URL."): the model's "A URL is required"
        # for the value the form could not take would only contradict it.
        if "url" in self._errors and hasattr(errors, "error_dict"):
            errors.error_dict.pop("url", None)
        super()._update_errors(errors)

    def clean_metadata(self):
        # An empty box is no metadata (the form field gives None); anything else is checked by validate_metadata.
        value = self.cleaned_data.get("metadata")
        return {} if value is None else value


@admin.register(Channel)
class ChannelAdmin(ReenableChannelMixin, ServiceAuditedAdminMixin, admin.ModelAdmin):
    # Few columns that wrap (the list fits 1024 px beside its filters): who, in what state, how healthy.
    list_display = ["channel_summary", "state", "success_rate_24h", "last_failure_24h"]
    list_display_links = ["channel_summary"]
    list_filter = ["kind", "format", "active"]
    search_fields = ["name", "url"]
    show_facets = admin.ShowFacets.NEVER
    change_form_template = "admin/channels/channel/change_form.html"
    form = ChannelForm

    def get_changelist(self, request, **kwargs):
        return ChannelChangeList

    def get_actions(self, request):
        # Bulk delete would collect every delivery of every selected channel in memory.
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def delete_view(self, request, object_id, extra_context=None):
        """A channel with deliveries is deactivated, not deleted: deleting it would erase its log
        (and Django's confirmation page would load every one of its deliveries)."""
        channel = self.get_object(request, unquote(object_id))
        refusal = channel and delete_refusal(channel=channel)
        if refusal:
            self.message_user(request, refusal, messages.ERROR)
            return HttpResponseRedirect(reverse("admin:channels_channel_change", args=[channel.pk]))
        return super().delete_view(request, object_id, extra_context)

    def get_object(self, request, object_id, from_field=None):
        channel = super().get_object(request, object_id, from_field)
        if channel is not None:
            channel.headers = headers_for(channel.headers, user=request.user)
        return channel

    def delete_model(self, request, obj):
        delete_channel(channel=obj, user=request.user)

    def save_model(self, request, obj, form, change):
        if change:
            changed = {name: getattr(obj, name) for name in form.changed_data if name in CHANNEL_FIELDS}
            update_channel(channel=obj, changes=changed, user=request.user)
            return
        fields = {name: getattr(obj, name) for name in form.cleaned_data if name in CHANNEL_FIELDS}
        created = create_channel(**fields, user=request.user)
        obj.pk = created.pk  # the admin logs, links to and names its own instance
        obj.refresh_from_db()

    # --- columns -------------------------------------------------------------

    @admin.display(description=gettext_lazy("target"))
    def target(self, channel):
        return channel.url or channel.email_to

    @admin.display(description=gettext_lazy("channel"), ordering="name")
    def channel_summary(self, channel):
        kind = channel.get_kind_display()
        if channel.is_postback and channel.format != PayloadFormat.STANDARD:
            kind = f"{kind} · {channel.get_format_display()}"
        return format_html(
            '<strong>{}</strong><br><span class="quiet">{}</span><br><span class="quiet">{}</span>',
            channel.name,
            kind,
            self.target(channel),
        )

    @admin.display(description=gettext_lazy("state"))
    def state(self, channel):
        """Deactivated or disabled first; otherwise the breaker's badge (sending, cooling off, probing)."""
        if not channel.active:
            current = channel_state(channel)
            return format_html('<span class="badge badge-warn" title="{}">{}</span>', current.reason, current.label)
        return self.sending_state(channel)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("breaker")

    @admin.display(description=gettext_lazy("sending"))
    def sending_state(self, channel):
        """The circuit breaker's state as a badge (SPEC section 5): sending, cooling off or probing."""
        state = getattr(channel, "breaker", None)  # no row: never failed
        if state is None or state.state == "closed":
            return format_html('<span class="badge badge-ok">{}</span>', _("Sending"))
        label = state.get_state_display()
        if state.state == "open" and state.open_until:
            label = _("%(state)s until %(time)s") % {
                "state": label,
                "time": time_format(localtime(state.open_until), "TIME_FORMAT"),
            }
        return format_html(
            '<span class="badge badge-warn" title="{}">{}</span>',
            _("%(n)d timeouts or refused connections in a row") % {"n": state.consecutive_failures},
            label,
        )

    @admin.display(description=gettext_lazy("success (24 h)"))
    def success_rate_24h(self, channel):
        health = getattr(channel, "health", None)
        if health is None or health.success_rate is None:
            return "-"
        return f"{health.success_rate:.0%} of {health.finished}"

    @admin.display(description=gettext_lazy("last failure (24 h)"))
    def last_failure_24h(self, channel):
        health = getattr(channel, "health", None)
        if health is None or health.last_failure_at is None:
            return "-"
        url = reverse("admin:deliveries_delivery_changelist") + f"?channel__id__exact={channel.pk}&status__exact=failed"
        return format_html('<a href="{}">{}</a>', url, staff_time_html(health.last_failure_at))

    # --- one form per kind -----------------------------------------------------

    def _kind(self, request, obj=None) -> str | None:
        if obj is not None:
            return obj.kind
        kind = request.POST.get("kind") or request.GET.get("kind")
        return kind if kind in ChannelKind.values else None

    def get_fields(self, request, obj=None):
        return KIND_FIELDS[self._kind(request, obj) or ChannelKind.POSTBACK]

    def get_fieldsets(self, request, obj=None):
        # A heading of its own: on the channel page the form follows the state, charts and attempts.
        return [(_("Settings") if obj is not None else None, {"fields": self.get_fields(request, obj)})]

    def get_readonly_fields(self, request, obj=None):
        return ["kind"] if obj is not None else []

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "url":
            kwargs["assume_scheme"] = "https"  # Django 6's default; a typed scheme is kept as is
        if db_field.name == "timeout":
            out_of_range = _("Enter a timeout between 1 and %(max)d seconds.") % {"max": MAX_TIMEOUT_S}
            kwargs.update(
                min_value=1,
                max_value=MAX_TIMEOUT_S,
                error_messages={"min_value": out_of_range, "max_value": out_of_range},
                help_text=_("Seconds to wait for the endpoint's answer, 1 to %(max)d.") % {"max": MAX_TIMEOUT_S},
            )
        if db_field.name == "headers":
            return HeaderLinesField(
                required=False,
                label=_("Custom headers"),
                help_text=_(
                    "One header a line, as Name: value (for example X-Api-Key: abc123). Empty: none. "
                    "The signature headers (webhook-id, webhook-timestamp, webhook-signature) and Content-Type "
                    "are set by the service."
                ),
            )
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        if obj is None and "kind" in form.base_fields:
            # The kind was chosen on the previous page; the form is that kind's.
            form.base_fields["kind"].widget = forms.HiddenInput()
        if "format" in form.base_fields:
            current = obj.format if obj is not None else PayloadFormat.STANDARD
            field = form.base_fields["format"]
            field.required = False  # ChannelForm.clean_format: missing keeps the stored format
            field.widget.attrs["data-format-select"] = "1"
            # The chosen format's line; staff.js replaces it as the select changes.
            field.help_text = _(EXPLANATIONS[PayloadFormat(current)])
        return form

    def _format_context(self, request, obj=None) -> dict:
        if (self._kind(request, obj) or ChannelKind.POSTBACK) != ChannelKind.POSTBACK:
            return {}
        current = request.POST.get("format") or (obj.format if obj is not None else PayloadFormat.STANDARD)
        examples = format_examples(current=current)
        return {"format_examples": examples, "format_current": examples["formats"][examples["current"]]}

    def add_view(self, request, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), **self._format_context(request)}
        if self._kind(request) is None:
            if not self.has_add_permission(request):
                raise PermissionDenied
            context = {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "title": "Add channel: which kind?",
                "kinds": ChannelKind.choices,
                "next": request.GET.get("next", ""),
            }
            return TemplateResponse(request, "admin/channels/channel/choose_kind.html", context)
        extra_context.setdefault("title", KIND_TITLES_NEW[self._kind(request)])
        extra_context["channel_kind_label"] = ChannelKind(self._kind(request)).label
        return super().add_view(request, form_url, extra_context)

    def response_add(self, request, obj, post_url_continue=None):
        # "Attach channel" sent staff here to create one: take them back with it preselected.
        next_url = safe_next_url(request, request.GET.get("next", ""))
        if next_url and "_continue" not in request.POST and "_addanother" not in request.POST:
            self.message_user(request, f"Channel “{obj}” was created.", messages.SUCCESS)
            separator = "&" if "?" in next_url else "?"
            return HttpResponseRedirect(f"{next_url}{separator}channel={obj.pk}")
        return super().response_add(request, obj, post_url_continue)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        channel = self.get_object(request, unquote(object_id))
        extra_context = extra_context or {}
        if channel is not None:
            health = channel_health(channel_ids=[channel.pk]).get(channel.pk)
            hourly = channel_activity(channel=channel, hours=7 * 24)
            extra_context.update(
                {
                    "title": KIND_TITLES[channel.kind] % {"name": channel.name},
                    "subtitle": None,  # the title already names it
                    "channel_kind_label": channel.get_kind_display(),
                    "channel_state": channel_state(channel),
                    "charts": [
                        activity_charts(hourly[-24:], bucket_hours=1, span=_("24 h")),
                        activity_charts(seven_day_buckets(hourly), bucket_hours=6, span=_("7 days")),
                    ],
                    "recent_attempts": recent_attempts_of(channel=channel),
                    "can_change_active": self.has_change_permission(request, channel),
                    "can_attach": request.user.has_perm(ATTACH_PERMISSION),
                    "attachable_types": EventType.objects.exclude(subscriptions__channel=channel)
                    .order_by("position", "key")
                    .only("key", "name"),
                    "health": health,
                    "last_failure": last_failure_of(channel=channel),
                    "recent_tests": with_reasons(recent_tests_of(channel=channel), channel=channel),
                    "can_send_test": SEND_TEST.allows(request.user),
                    **(self._test_send_context(request, channel) if SEND_TEST.allows(request.user) else {}),
                    "can_recover": RECOVER.allows(request.user),
                    "recover_job": latest_job(channel),
                    "breaker_badge": self.sending_state(channel),
                    "can_reveal_secret": channel.is_postback and REVEAL.allows(request.user),
                    "can_rotate_secret": channel.is_postback and ROTATE.allows(request.user),
                    "audit_entries": history_of(channel),
                    "audit_link": audit_page_url(obj=channel),
                    "subscriptions": channel.subscriptions.select_related("event_type").order_by(
                        "event_type__position"
                    ),
                    **self._format_context(request, channel),
                }
            )
        return super().change_view(request, object_id, form_url, extra_context)

    def _test_send_context(self, request, channel) -> dict:
        """The test send form: the types this channel may get, and the exact body each would send.

        ``?test_type=`` chooses the one shown (the page without JavaScript); ``staff.js`` swaps the preview
        as the select changes, from every type's body in a ``json_script``.
        """
        types = types_for_test_send(channel=channel)
        previews = {t.key: preview_test_send(channel=channel, event_type=t, user=request.user) for t in types}
        chosen = request.GET.get("test_type", "")
        chosen = chosen if chosen in previews else TEST_EVENT_TYPE
        return {
            "test_send_types": [(t.key, f"{t.local_name} ({t.key})") for t in types],
            "test_send_previews": previews,
            "test_send_chosen": chosen,
            "test_send_preview": previews.get(chosen, ""),
        }

    # --- actions on one channel -------------------------------------------------

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<int:channel_id>/send-test/", wrap(self.send_test_view), name="channels_channel_send_test"),
            path(
                "<int:channel_id>/reveal-secret/", wrap(self.reveal_secret_view), name="channels_channel_reveal_secret"
            ),
            path(
                "<int:channel_id>/rotate-secret/", wrap(self.rotate_secret_view), name="channels_channel_rotate_secret"
            ),
            path("<int:channel_id>/set-active/", wrap(self.set_active_view), name="channels_channel_set_active"),
            path("<int:channel_id>/attach/", wrap(self.attach_view), name="channels_channel_attach"),
            *recover_urls(self),
            *super().get_urls(),
        ]

    def _change_page(self, channel) -> str:
        return reverse("admin:channels_channel_change", args=[channel.pk])

    def send_test_view(self, request, channel_id):
        if not SEND_TEST.allows(request.user):
            raise PermissionDenied
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        channel = get_object_or_404(Channel, pk=channel_id)
        try:
            attempt = send_test_event(
                channel=channel, user=request.user, event_type_key=request.POST.get("event_type", "")
            )
        except ValidationError as exc:
            self.message_user(
                request, _("Test event not sent: %(reason)s") % {"reason": " ".join(exc.messages)}, messages.ERROR
            )
            return HttpResponseRedirect(self._change_page(channel))
        sent_type = attempt.delivery.event_type_id
        if attempt.succeeded:
            self.message_user(
                request,
                _("Test event delivered: HTTP %(status)s in %(ms)d ms (%(type)s).")
                % {"type": sent_type, "status": attempt.response_status, "ms": attempt.duration_ms},
                messages.SUCCESS,
            )
        else:
            self.message_user(
                request,
                _("Test event failed after %(ms)d ms (%(type)s): %(reason)s")
                % {
                    "type": sent_type,
                    "ms": attempt.duration_ms,
                    "reason": attempt_reason(attempt, timeout_s=channel.timeout),
                },
                messages.ERROR,
            )
        # Back with the same type chosen, so a second send is one click.
        return HttpResponseRedirect(
            self._change_page(channel) + "?" + urlencode({"test_type": sent_type}) + "#recent-tests"
        )

    def attach_view(self, request, channel_id):
        """The channel page's "Attach to ..." picker: System notifications' attach form, this channel preselected."""
        if not request.user.has_perm(ATTACH_PERMISSION):
            raise PermissionDenied
        channel = get_object_or_404(Channel, pk=channel_id)
        key = request.GET.get("event_type", "")
        if not EventType.objects.filter(key=key).exists():
            self.message_user(request, _("Choose an event type."), messages.ERROR)
            return HttpResponseRedirect(self._change_page(channel))
        return HttpResponseRedirect(
            reverse("admin:events_eventtype_attach", args=[key]) + "?" + urlencode({"channel": channel.pk})
        )

    def set_active_view(self, request, channel_id):
        """The channel page's Deactivate / Activate button (the form's "active" box, in one click)."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        channel = get_object_or_404(Channel, pk=channel_id)
        if not self.has_change_permission(request, channel):
            raise PermissionDenied
        active = request.POST.get("active") == "on"
        if channel.active != active:
            update_channel(channel=channel, changes={"active": active}, user=request.user)
            self.log_change(request, channel, [{"changed": {"fields": ["active"]}}])
        self.message_user(
            request,
            _("The channel is active again.") if active else _("The channel is deactivated: nothing is sent to it."),
            messages.SUCCESS,
        )
        return HttpResponseRedirect(self._change_page(channel))

    def _secret_page(self, request, channel, *, secret: str, rotated: bool):
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"Signing secret of {channel}",
            "channel": channel,
            "secret": secret,
            "rotated": rotated,
        }
        response = TemplateResponse(request, "admin/channels/channel/secret.html", context)
        response["Cache-Control"] = "no-store"
        return response

    def reveal_secret_view(self, request, channel_id):
        """Shows the secret once, on a page answering a POST (never in a message, a URL or a cookie)."""
        if not REVEAL.allows(request.user):
            raise PermissionDenied
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        channel = get_object_or_404(Channel, pk=channel_id, kind=ChannelKind.POSTBACK)
        secret = reveal_secret(channel=channel, user=request.user)
        return self._secret_page(request, channel, secret=secret, rotated=False)

    def rotate_secret_view(self, request, channel_id):
        if not ROTATE.allows(request.user):
            raise PermissionDenied
        channel = get_object_or_404(Channel, pk=channel_id, kind=ChannelKind.POSTBACK)
        if request.method != "POST":
            context = {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "title": "Rotate the signing secret?",
                "channel": channel,
            }
            return TemplateResponse(request, "admin/channels/channel/rotate_confirm.html", context)
        secret = rotate_secret(channel=channel, user=request.user)
        channel.refresh_from_db()
        return self._secret_page(request, channel, secret=secret, rotated=True)
