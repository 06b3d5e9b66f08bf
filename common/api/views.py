"""The base every API viewset uses, so each endpoint answers the same way without asking for it.

- 405 for a method the endpoint does not have, before any permission check;
- unknown query parameters refused with 400 naming them (with the snake_case spelling when a
  camelCase one of a known parameter was used); a list's filters and paging are known, other
  parameters an action takes are declared in ``extra_query_params = {"action": {"name", ...}}``;
- a POST to an action that takes no body (``bodyless_actions = {"retry", ...}``) refused with 400
  when the body has fields (``{}`` or no body is fine);
- ``X-RateLimit-Limit`` / ``-Remaining`` / ``-Reset`` on every throttled answer;
- failed authentication counted per client address: past ``auth_failure`` of
  ``DEFAULT_THROTTLE_RATES`` the address gets 429 without its credentials being looked at.

Request bodies are checked by the input serializers (``common.api.serializers.StrictSerializer``).
"""

import math
import time

from rest_framework import exceptions, mixins, viewsets
from rest_framework.throttling import SimpleRateThrottle

from common.api.naming import unknown_names_errors


class AuthFailureThrottle(SimpleRateThrottle):
    """Failed authentications per client address (``auth_failure`` rate; absent or empty: not limited)."""

    scope = "auth_failure"

    def get_rate(self):
        from rest_framework.settings import api_settings

        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def get_ident(self, request):
        # REMOTE_ADDR, as django-axes: a client-supplied X-Forwarded-For would give a guesser a new
        # address for every try (behind a proxy the limit is for all clients together).
        return request.META.get("REMOTE_ADDR", "")

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}

    def blocked_for(self, request, view) -> float | None:
        """Seconds the address must wait, or None when it may try."""
        if self.rate is None:
            return None
        self.key = self.get_cache_key(request, view)
        self.history = self.cache.get(self.key, [])
        self.now = self.timer()
        while self.history and self.history[-1] <= self.now - self.duration:
            self.history.pop()
        if len(self.history) >= self.num_requests:
            return self.wait()
        return None

    def record_failure(self, request, view) -> None:
        if self.rate is None:
            return
        self.blocked_for(request, view)
        self.history.insert(0, self.now)
        self.cache.set(self.key, self.history, self.duration)


def _rate_limit_headers(throttle) -> dict | None:
    history = getattr(throttle, "history", None)
    if getattr(throttle, "rate", None) is None or history is None:
        return None
    now = getattr(throttle, "now", time.time())
    reset = math.ceil(history[-1] + throttle.duration - now) if history else 0
    return {
        "X-RateLimit-Limit": str(throttle.num_requests),
        "X-RateLimit-Remaining": str(max(0, throttle.num_requests - len(history))),
        "X-RateLimit-Reset": str(max(0, reset)),
    }


class StrictAPIMixin:
    """The behaviour of the module docstring, for any DRF view."""

    extra_query_params: dict[str, set[str]] = {}
    bodyless_actions: frozenset[str] = frozenset()

    def perform_authentication(self, request):
        wait = AuthFailureThrottle().blocked_for(request, self)
        if wait is not None:
            raise exceptions.Throttled(wait, detail="Too many failed authentications from this address.")
        super().perform_authentication(request)

    def check_permissions(self, request):
        method = request.method.lower()
        if method not in self.http_method_names or getattr(self, method, None) is None:
            raise exceptions.MethodNotAllowed(request.method)
        super().check_permissions(request)

    def check_throttles(self, request):
        waits = []
        for throttle in self.get_throttles():
            allowed = throttle.allow_request(request, self)
            headers = _rate_limit_headers(throttle)
            if headers is not None:
                self._rate_limit_headers = headers
            if not allowed:
                waits.append(throttle.wait())
        if waits:
            waits = [w for w in waits if w is not None]
            self.throttled(request, max(waits, default=None))

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        self.check_query_params(request)
        if getattr(self, "action", None) in self.bodyless_actions:
            self.check_no_body(request)

    def check_no_body(self, request) -> None:
        if not request.stream:  # no body at all (DRF: None when the length is 0)
            return
        data = request.data
        if isinstance(data, dict):
            errors = unknown_names_errors(data.keys(), (), "field")
        else:
            errors = {"non_field_errors": ["This call takes no body (or {})."]} if data not in (None, "") else {}
        if errors:
            raise exceptions.ValidationError(errors)

    def allowed_query_params(self, request) -> set[str]:
        allowed = set(self.extra_query_params.get(getattr(self, "action", None), ()))
        if request.method in ("GET", "HEAD") and getattr(self, "action", None) != "retrieve":
            filterset_class = getattr(self, "filterset_class", None)
            if filterset_class is not None:
                allowed |= set(filterset_class.base_filters)
            paginator = getattr(self, "paginator", None)
            if paginator is not None:
                for name in ("page_query_param", "page_size_query_param", "cursor_query_param"):
                    value = getattr(paginator, name, None)
                    if value:
                        allowed.add(value)
        return allowed

    def check_query_params(self, request) -> None:
        errors = unknown_names_errors(
            request.query_params.keys(), self.allowed_query_params(request), "query parameter"
        )
        if errors:
            raise exceptions.ValidationError(errors)

    def handle_exception(self, exc):
        if isinstance(exc, (exceptions.NotAuthenticated, exceptions.AuthenticationFailed)):
            AuthFailureThrottle().record_failure(self.request, self)
        return super().handle_exception(exc)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        for name, value in (getattr(self, "_rate_limit_headers", None) or {}).items():
            response[name] = value
        return response


class GenericViewSet(StrictAPIMixin, viewsets.GenericViewSet):
    """DRF's GenericViewSet with the behaviour of the module docstring: every API viewset's base."""


class ModelViewSet(
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    mixins.ListModelMixin,
    GenericViewSet,
):
    """DRF's ModelViewSet on :class:`GenericViewSet`."""
