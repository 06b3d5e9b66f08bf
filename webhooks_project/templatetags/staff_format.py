"""One date format on every staff page: ``{{ value|staff_time }}``.

Renders a ``<time>`` element whose text is the date in the staff format (``DATETIME_FORMAT`` of
``webhooks_project/formats/``, the same in English and German: ``2026-11-30 16:18:57``), and
whose hover title repeats it with the time zone (``2026-11-30 16:18:57 UTC``). Styles:

- ``{{ value|staff_time }}``: the full date and time.
- ``{{ value|staff_time:"relative" }}``: "9 minutes ago" / "9 minutes from now" (Django's
  ``naturaltime``, translated), the exact time on hover.
- ``{{ value|staff_time:"time" }}``: only the time of day (``16:18:57``), for rows under a date.
- ``{{ value|staff_time:"date" }}``: only the date (``2026-11-30``).

``None`` (or an empty value) renders as "-". The Django admin's own columns and read-only fields
use the same ``DATETIME_FORMAT``, so lists and custom pages agree.
"""

import datetime

from django import template
from django.contrib.humanize.templatetags.humanize import naturaltime
from django.utils import formats, timezone
from django.utils.html import format_html

register = template.Library()

STYLES = ("exact", "relative", "time", "date")


def exact_time(value: datetime.datetime) -> str:
    """The staff format of a date-time in the current time zone, with the zone: "2026-11-30 16:18:57 UTC"."""
    local = timezone.localtime(value) if timezone.is_aware(value) else value
    text = formats.date_format(local, "DATETIME_FORMAT")
    zone = local.tzname() if timezone.is_aware(local) else ""
    return f"{text} {zone}".strip()


@register.filter(is_safe=True)
def staff_time(value, style: str = "exact"):
    if value in (None, ""):
        return "-"
    if style not in STYLES:
        raise template.TemplateSyntaxError(f"staff_time: unknown style {style!r} (one of {', '.join(STYLES)})")
    if not isinstance(value, datetime.datetime):
        if isinstance(value, datetime.date):
            return format_html('<time datetime="{}">{}</time>', value.isoformat(), formats.date_format(value))
        return value
    local = timezone.localtime(value) if timezone.is_aware(value) else value
    if style == "relative":
        text = naturaltime(value)
    elif style == "time":
        text = formats.time_format(local, "TIME_FORMAT")
    elif style == "date":
        text = formats.date_format(local, "DATE_FORMAT")
    else:
        text = formats.date_format(local, "DATETIME_FORMAT")
    return format_html(
        '<time datetime="{}" title="{}">{}</time>',
        local.isoformat(timespec="seconds"),
        exact_time(value),
        text,
    )


@register.filter
def staff_time_exact(value):
    """The exact time as text, with its zone ("2026-11-30 16:18:57 UTC"), for titles and plain text."""
    return exact_time(value) if value else "-"
