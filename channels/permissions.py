"""The channel actions beyond add / change / delete, with every permission each needs (``common.permissions``)."""

from common.permissions import Action

VIEW_CHANNEL = "channels.view_channel"

ROTATE = Action(
    "rotate secret",
    (VIEW_CHANNEL, "channels.rotate_secret"),
    "You do not have permission to rotate signing secrets.",
)
# Also what lets a user see custom header values in clear (``channels.masking``).
REVEAL = Action(
    "reveal secret",
    (VIEW_CHANNEL, "channels.reveal_secret"),
    "You do not have permission to reveal signing secrets.",
)
