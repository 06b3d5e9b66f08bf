"""The kinds of channel (SPEC section 2). Apart from the models so that validation can use them too."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ChannelKind(models.TextChoices):
    POSTBACK = "postback", _("Postback (signed HTTP POST)")
    EMAIL = "email", _("Email")
    SLACK = "slack", _("Slack incoming webhook")
