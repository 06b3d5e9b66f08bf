"""OpenAPI: the error answers every operation can give, described once (a drf-spectacular hook)."""

_CODE = {
    "type": "string",
    "description": "Machine-readable: invalid, parse_error, not_authenticated, authentication_failed, "
    "permission_denied, not_found, method_not_allowed, not_acceptable, unsupported_media_type, "
    "conflict, duplicate, event_conflict, idempotency_key_reused, idempotency_key_in_use, "
    "invalid_idempotency_key, request_too_large, payload_too_large, throttled.",
}
_ERROR_SCHEMA = {
    "type": "object",
    "description": 'Every error answer: `{"code": "not_found", "detail": "..."}`; some add fields '
    "(`id` and `differs` for an event conflict).",
    "properties": {"code": _CODE, "detail": {"type": "string"}},
    "required": ["code", "detail"],
}
_VALIDATION_ERROR_SCHEMA = {
    "type": "object",
    "description": (
        "Invalid input (`code` `invalid`), or a body that is not JSON (`parse_error`, no `errors`). `errors` names "
        "each field at fault with its messages; nested fields and list items by a dotted path, list items by index "
        '(`{"sources.1": ["..."]}`); `non_field_errors` is the request as a whole. Unknown fields and query '
        "parameters are named as sent."
    ),
    "properties": {
        "code": _CODE,
        "detail": {"type": "string"},
        "errors": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}},
    },
    "required": ["code", "detail"],
}
_IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "Up to 255 printable ASCII characters. The same key with the same request within 24 hours "
    "replays the first answer (with `Idempotent-Replayed: true`); with another request it answers 409 "
    "`idempotency_key_reused`. Keys are per user.",
    "schema": {"type": "string", "maxLength": 255, "pattern": "^[\\x21-\\x7e]+$"},
}
_ERROR_RESPONSES = {
    "400": ("Invalid input; the body names the fields at fault.", "ValidationErrorResponse"),
    "401": ("No or invalid token: send `Authorization: Token <key>`.", "ErrorResponse"),
    "403": ("The token's user lacks the permission this call needs.", "ErrorResponse"),
    "404": ("No such object.", "ErrorResponse"),
    "405": ("Method not allowed.", "ErrorResponse"),
    "406": ("Only `application/json` responses are available.", "ErrorResponse"),
    "409": ("A conflict with the stored state, or an Idempotency-Key reused for another request.", "ErrorResponse"),
    "413": (
        "The payload (or the whole body, at 4 times the payload limit) is over the size limit.",
        "ValidationErrorResponse",
    ),
    "415": ("Send `Content-Type: application/json`.", "ErrorResponse"),
    "429": ("Too many requests for this token; see `Retry-After`.", "ErrorResponse"),
}


def _close_request_bodies(result):
    """Every JSON request body refuses fields it does not declare (``StrictFieldsMixin``): say so in the schema."""
    schemas = result["components"]["schemas"]
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            if not isinstance(operation, dict):
                continue
            for media in operation.get("requestBody", {}).get("content", {}).values():
                ref = media.get("schema", {}).get("$ref", "")
                schema = schemas.get(ref.rsplit("/", 1)[-1]) if ref.startswith("#/components/schemas/") else None
                if schema is not None and schema.get("type") == "object":
                    schema.setdefault("additionalProperties", False)


def add_error_responses(result, generator, request, public):
    """drf-spectacular post-processing hook: document the error answers every operation can give.

    The shapes are DRF's, described once as components, so clients and the fuzzer in the
    test suite can check error bodies as strictly as successful ones.
    """
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["ErrorResponse"] = _ERROR_SCHEMA
    schemas["ValidationErrorResponse"] = _VALIDATION_ERROR_SCHEMA
    _close_request_bodies(result)
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            codes = ["400", "401", "403", "405", "406", "429"]
            if "{" in path or method == "get":  # unknown id, or a stale list cursor
                codes.append("404")
            if method in ("post", "put", "patch"):
                codes += ["409", "413", "415"]
            if method == "delete":
                codes.append("409")
            if method == "post" and path.startswith("/api/v1/"):
                parameters = operation.setdefault("parameters", [])
                if not any(p.get("name") == "Idempotency-Key" for p in parameters):
                    parameters.append(_IDEMPOTENCY_KEY)
            responses = operation.setdefault("responses", {})
            for code in codes:
                description, component = _ERROR_RESPONSES[code]
                responses.setdefault(
                    code,
                    {
                        "description": description,
                        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{component}"}}},
                    },
                )
    return result
