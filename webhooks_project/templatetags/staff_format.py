"""Template filters for the staff pages' one date format (``common.timefmt``)."""

from django import template

from common.timefmt import exact_time, staff_time_html

register = template.Library()


@register.filter
def staff_time(value):
    """``{{ delivery.created_at|staff_time }}``: "9 min ago", the exact time (seconds, zone) on hover."""
    return staff_time_html(value)


@register.filter
def staff_time_exact(value):
    return exact_time(value) if value else "-"
