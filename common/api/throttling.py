"""API throttling: a rate per token (per user), read from the settings when asked."""

from rest_framework.settings import api_settings
from rest_framework.throttling import UserRateThrottle


class TokenRateThrottle(UserRateThrottle):
    """Per-user (so per token) rate limit, ``API_THROTTLE_RATE`` in the environment.

    Reads the rate when asked, not at import as DRF's class does, so that settings
    changed at run time (tests, ``override_settings``) apply.
    """

    scope = "user"

    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)
