"""The kinds of channel (SPEC section 2). Apart from the models so that validation can use them too."""

from django.db import models


class ChannelKind(models.TextChoices):
    POSTBACK = "postback", "Postback (signed HTTP POST)"
    EMAIL = "email", "Email"
    SLACK = "slack", "Slack incoming webhook"
