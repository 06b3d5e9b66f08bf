"""Recover in the admin (SPEC section 10): a form on the channel's page, a preview count, the job's progress.

``channels_channel_recover`` (``<channel id>/recover/``) is the form: a GET shows it (``?since=``
pre-fills it, the re-enable page links here), a POST with ``preview`` shows how many
deliveries it will resend, a POST with ``start`` starts the job (``deliveries.recovery``)
and goes back to the channel's page, where the progress bar follows the job
(``channels_channel_recover_status``, JSON, polled by staff.js while it runs).
"""

from __future__ import annotations

from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from channels.models import Channel
from deliveries.exceptions import NothingToResend, RecoverRefused
from deliveries.models import RecoverJob
from deliveries.recovery import RECOVER, count_recoverable, start_recover


class RecoverForm(forms.Form):
    since = forms.DateTimeField(
        label=_("Since"), help_text=_("Resend what failed from this time on (your time zone unless given).")
    )
    until = forms.DateTimeField(required=False, label=_("Until"), help_text=_("Up to this time (empty: now)."))
    event_types = forms.MultipleChoiceField(
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=_("Event types"),
        help_text=_("Only these types (none ticked: all)."),
    )
    reenable = forms.BooleanField(required=False, label=_("Re-enable the channel"))

    def __init__(self, *args, channel: Channel, **kwargs):
        super().__init__(*args, **kwargs)
        self.channel = channel
        self.fields["event_types"].choices = [
            (s.event_type_id, s.event_type.name)
            for s in channel.subscriptions.select_related("event_type").order_by("event_type__position")
        ]
        if channel.active:
            del self.fields["reenable"]


def recover_urls(model_admin) -> list:
    wrap = model_admin.admin_site.admin_view
    return [
        path(
            "<int:channel_id>/recover/",
            wrap(lambda request, channel_id: recover_view(model_admin, request, channel_id)),
            name="channels_channel_recover",
        ),
        path(
            "<int:channel_id>/recover/status/",
            wrap(lambda request, channel_id: status_view(request, channel_id)),
            name="channels_channel_recover_status",
        ),
    ]


def latest_job(channel: Channel) -> RecoverJob | None:
    return RecoverJob.objects.filter(channel=channel).order_by("-id").first()


def _initial(request) -> dict:
    since = parse_datetime(request.GET.get("since", "") or "")
    return {"since": timezone.localtime(since) if since and timezone.is_aware(since) else since}


def recover_view(model_admin, request, channel_id):
    if not RECOVER.allows(request.user):
        raise PermissionDenied
    channel = get_object_or_404(Channel, pk=channel_id)
    form = RecoverForm(request.POST or None, channel=channel, initial=_initial(request))
    count = None
    if request.method == "POST" and form.is_valid():
        window = {k: form.cleaned_data.get(k) for k in ("since", "until")}
        window["event_types"] = form.cleaned_data["event_types"]
        try:
            if "start" in request.POST:
                job = start_recover(
                    actor=request.user, channel=channel, reenable=form.cleaned_data.get("reenable", False), **window
                )
                model_admin.message_user(
                    request,
                    ngettext(
                        "Recover started: %(count)d delivery to resend.",
                        "Recover started: %(count)d deliveries to resend.",
                        job.total,
                    )
                    % {"count": job.total},
                )
                return HttpResponseRedirect(reverse("admin:channels_channel_change", args=[channel.pk]) + "#recover")
            count = count_recoverable(actor=request.user, channel=channel, **window)
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        except NothingToResend as exc:
            form.add_error(None, str(exc))
        except RecoverRefused as exc:
            form.add_error(None, str(exc))
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "title": gettext("Recover what failed to %(channel)s") % {"channel": channel},
        "channel": channel,
        "form": form,
        "count": count,
        "job": latest_job(channel),
    }
    return TemplateResponse(request, "admin/channels/channel/recover.html", context)


def job_data(job: RecoverJob | None) -> dict:
    if job is None:
        return {"job": None}
    return {
        "job": job.pk,
        "status": job.status,
        # In the page's language, for staff.js to show as it is.
        "status_display": str(job.get_status_display()),
        "total": job.total,
        "done": job.done,
        "resent": job.resent,
        "skipped": job.skipped,
        "percent": 100 if job.status == RecoverJob.Status.DONE else job.percent,
        "summary": job.summary,
    }


def status_view(request, channel_id):
    if not request.user.has_perms(("channels.view_channel", "deliveries.view_delivery")):
        raise PermissionDenied
    channel = get_object_or_404(Channel, pk=channel_id)
    return JsonResponse(job_data(latest_job(channel)))
