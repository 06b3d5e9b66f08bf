"""Names a caller sent that the API does not know: which, and the known one meant (``orderRef`` -> ``order_ref``)."""

import re

_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def snake_case(name: str) -> str:
    return _CAMEL_BOUNDARY.sub("_", name).replace("-", "_").lower()


def unknown_names_errors(given, known, what: str) -> dict[str, list[str]]:
    """``{name: [message]}`` for each of ``given`` not in ``known``, with a hint where a spelling of a known one was used."""
    known = set(known)
    errors = {}
    for name in given:
        if name in known:
            continue
        meant = snake_case(str(name))
        if meant != name and meant in known:
            errors[str(name)] = [f"Unknown {what} {name!r}; did you mean {meant!r}? Names are snake_case."]
        else:
            listing = ", ".join(sorted(known))
            known_text = f"Known: {listing}." if listing else f"This call takes no {what}s."
            errors[str(name)] = [f"Unknown {what} {name!r}. {known_text}"]
    return errors
