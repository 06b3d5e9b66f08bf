"""One date format on every staff page: the staff_time filter and the admin's own columns agree."""

from datetime import UTC, datetime, timedelta

import pytest
from django.template import Context, Template, TemplateSyntaxError
from django.utils import formats, timezone, translation

WHEN = datetime(2026, 11, 30, 16, 18, 57, tzinfo=UTC)


def render(source: str, **context) -> str:
    return Template("{% load staff_format %}" + source).render(Context(context))


@pytest.mark.parametrize("language", ["en", "de"])
def test_the_exact_time_has_seconds_and_the_zone_on_hover(language, settings):
    settings.TIME_ZONE = "UTC"
    with translation.override(language):
        html = render("{{ when|staff_time }}", when=WHEN)
    assert html == (
        '<time datetime="2026-11-30T16:18:57+00:00" title="2026-11-30 16:18:57 UTC">2026-11-30 16:18:57</time>'
    )


def test_the_platform_time_zone_is_shown(settings):
    settings.TIME_ZONE = "Europe/Berlin"
    with timezone.override("Europe/Berlin"):
        html = render("{{ when|staff_time }}", when=WHEN)
    assert ">2026-11-30 17:18:57</time>" in html
    assert 'title="2026-11-30 17:18:57 CET"' in html


def test_relative_times_keep_the_exact_time_on_hover():
    when = timezone.now() - timedelta(minutes=9, seconds=5)
    with translation.override("en"):
        english = render('{{ when|staff_time:"relative" }}', when=when)
    with translation.override("de"):
        german = render('{{ when|staff_time:"relative" }}', when=when)
    assert ">9\xa0minutes ago</time>" in english
    assert ">vor 9 Minuten</time>" in german
    assert f'title="{formats.date_format(timezone.localtime(when), "DATETIME_FORMAT")} UTC"' in english


def test_missing_values_and_unknown_styles():
    assert render("{{ when|staff_time }}", when=None) == "-"
    with pytest.raises(TemplateSyntaxError):
        render('{{ when|staff_time:"fancy" }}', when=WHEN)


@pytest.mark.parametrize("language", ["en", "de"])
def test_the_admin_columns_use_the_same_format(language):
    """The Django admin's list columns and read-only fields format dates with DATETIME_FORMAT."""
    from django.contrib.admin.utils import display_for_value

    with translation.override(language):
        assert display_for_value(WHEN, "-") == "2026-11-30 16:18:57"
