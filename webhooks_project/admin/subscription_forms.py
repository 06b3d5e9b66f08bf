"""The forms of the System notifications pages: attach a channel, edit an attachment's sources."""

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from channels.kinds import ChannelKind
from channels.models import Channel
from events.catalogue.names import formats_of
from events.formats import PayloadFormat
from events.models import EventType, Source


class SourcesField(forms.MultipleChoiceField):
    widget = forms.CheckboxSelectMultiple

    def __init__(self, **kwargs):
        super().__init__(
            choices=Source.choices,
            error_messages={"required": _("Choose at least one source (admin, shop, funnel).")},
            label=_("Sources"),
            help_text=_("Notify only for events that happened on these sources."),
            **kwargs,
        )


class AttachChannelForm(forms.Form):
    channel = forms.ModelChoiceField(
        queryset=Channel.objects.none(), empty_label=_("Choose a channel"), label=_("Channel")
    )
    sources = SourcesField()

    def __init__(self, *args, event_type: EventType, **kwargs):
        super().__init__(*args, **kwargs)
        channels = Channel.objects.exclude(subscriptions__event_type=event_type).order_by("name", "id")
        if event_type.postback_only:
            channels = channels.filter(kind=ChannelKind.POSTBACK)
        self.fields["channel"].queryset = channels
        self.fields["channel"].label_from_instance = _channel_label
        # Which channels can take the type (the attach service refuses the others, naming these formats).
        self.fields["channel"].help_text = gettext(
            "%(key)s can go to postback channels of the formats: %(formats)s."
        ) % {
            "key": event_type.key,
            "formats": ", ".join(formats_of(event_type.key)),
        }


def _channel_label(channel: Channel) -> str:
    if channel.is_postback and channel.format != PayloadFormat.STANDARD:
        return gettext("%(name)s (%(kind)s, %(format)s format)") % {
            "name": channel.name,
            "kind": channel.get_kind_display(),
            "format": channel.get_format_display(),
        }
    return f"{channel.name} ({channel.get_kind_display()})"


class EditSubscriptionForm(forms.Form):
    sources = SourcesField()
    active = forms.BooleanField(required=False, label=_("Active"), help_text=_("Inactive attachments send nothing."))
