"""OpenAPI: the error answers every operation can give, described once (a drf-spectacular hook)."""

_ERROR_SCHEMA = {
    "type": "object",
    "description": 'A problem with the request as a whole: `{"detail": "..."}`.',
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
}
_VALIDATION_ERROR_SCHEMA = {
    "type": "object",
    "description": (
        'The fields at fault, each with its messages: `{"field": ["message", ...]}`; '
        '`non_field_errors` for the request as a whole, or `{"detail": "..."}` for a body that is not JSON.'
    ),
    "additionalProperties": {},
}
_ERROR_RESPONSES = {
    "400": ("Invalid input; the body names the fields at fault.", "ValidationErrorResponse"),
    "401": ("No or invalid token: send `Authorization: Token <key>`.", "ErrorResponse"),
    "403": ("The token's user lacks the permission this call needs.", "ErrorResponse"),
    "404": ("No such object.", "ErrorResponse"),
    "405": ("Method not allowed.", "ErrorResponse"),
    "406": ("Only `application/json` responses are available.", "ErrorResponse"),
    "413": ("The request body is over the size limit.", "ValidationErrorResponse"),
    "415": ("Send `Content-Type: application/json`.", "ErrorResponse"),
    "429": ("Too many requests for this token; see `Retry-After`.", "ErrorResponse"),
}


def add_error_responses(result, generator, request, public):
    """drf-spectacular post-processing hook: document the error answers every operation can give.

    The shapes are DRF's, described once as components, so clients and the fuzzer in the
    test suite can check error bodies as strictly as successful ones.
    """
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["ErrorResponse"] = _ERROR_SCHEMA
    schemas["ValidationErrorResponse"] = _VALIDATION_ERROR_SCHEMA
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            codes = ["400", "401", "403", "405", "406", "429"]
            if "{" in path or method == "get":  # unknown id, or a stale list cursor
                codes.append("404")
            if method in ("post", "put", "patch"):
                codes += ["413", "415"]
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
