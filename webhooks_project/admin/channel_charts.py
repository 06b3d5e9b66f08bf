"""A channel's success rate and latency over time as small server-rendered SVG bar charts (no script, no CDN).

Built from ``deliveries.selectors.channel_activity``'s buckets; each bar carries a ``<title>`` with its
exact figures, and each chart a text summary for screen readers.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext as _

from deliveries.selectors import ActivityBucket

WIDTH = 360
HEIGHT = 120
TOP = 8
BOTTOM = 100
LEFT = 52
GOOD, BAD, NEUTRAL = "#2e8540", "#c62828", "#3b6fb6"


@dataclass
class ChartBar:
    x: float
    y: float
    width: float
    height: float
    colour: str
    title: str


def _bars(values, titles, *, peak, colours):
    slot = (WIDTH - LEFT) / max(1, len(values))
    bars = []
    for i, (value, title, colour) in enumerate(zip(values, titles, colours, strict=True)):
        if value is None:
            continue
        height = max(1.0, value / peak * (BOTTOM - TOP)) if peak else 1.0
        bars.append(
            ChartBar(
                round(LEFT + i * slot + 1, 1),
                round(BOTTOM - height, 1),
                round(max(1.0, slot - 2), 1),
                round(height, 1),
                colour,
                title,
            )
        )
    return bars


def _label(bucket, bucket_hours: int) -> str:
    start = timezone.localtime(bucket.start)
    return f"{start:%Y-%m-%d %H}:00" if bucket_hours == 1 else f"{start:%Y-%m-%d %H}:00 (+{bucket_hours} h)"


def activity_charts(buckets, *, bucket_hours: int, span: str) -> dict:
    """The success-rate and latency charts of one span ("24 h", "7 d")."""
    labels = [_label(b, bucket_hours) for b in buckets]
    rates = [None if b.success_rate is None else b.success_rate * 100 for b in buckets]
    rate_titles = [
        _("%(when)s: no finished delivery") % {"when": label}
        if b.success_rate is None
        else _("%(when)s: %(rate)d%% of %(n)d succeeded")
        % {"when": label, "rate": round(b.success_rate * 100), "n": b.finished}
        for b, label in zip(buckets, labels, strict=True)
    ]
    rate_colours = [GOOD if (r or 0) >= 95 else BAD if (r or 0) < 50 else "#c98a00" for r in rates]
    latencies = [b.latency_ms for b in buckets]
    peak_ms = max((v for v in latencies if v is not None), default=0)
    latency_titles = [
        _("%(when)s: no attempt") % {"when": label}
        if b.latency_ms is None
        else _("%(when)s: %(ms)d ms on average over %(n)d attempts")
        % {"when": label, "ms": round(b.latency_ms), "n": b.attempts}
        for b, label in zip(buckets, labels, strict=True)
    ]
    succeeded = sum(b.succeeded for b in buckets)
    finished = sum(b.finished for b in buckets)
    attempts = sum(b.attempts for b in buckets)
    mean_ms = round(sum(b.total_ms for b in buckets) / attempts) if attempts else None
    return {
        "span": span,
        "width": WIDTH,
        "height": HEIGHT,
        "top": TOP,
        "bottom": BOTTOM,
        "left": LEFT,
        "label_y": BOTTOM + 16,
        "first_label": f"{timezone.localtime(buckets[0].start):%m-%d %H:%M}" if buckets else "",
        "rate": {
            "bars": _bars(rates, rate_titles, peak=100, colours=rate_colours),
            "summary": (
                _("Success rate over %(span)s: %(rate)d%% of %(n)d finished deliveries")
                % {"span": span, "rate": round(100 * succeeded / finished), "n": finished}
                if finished
                else _("Success rate over %(span)s: no finished delivery") % {"span": span}
            ),
            "peak_label": "100%",
        },
        "latency": {
            "bars": _bars(latencies, latency_titles, peak=peak_ms, colours=[NEUTRAL] * len(latencies)),
            "summary": (
                _("Latency over %(span)s: %(ms)d ms on average over %(n)d attempts")
                % {"span": span, "ms": mean_ms, "n": attempts}
                if attempts
                else _("Latency over %(span)s: no attempt") % {"span": span}
            ),
            "peak_label": f"{round(peak_ms)} ms" if peak_ms else "",
        },
    }


def seven_day_buckets(hourly, *, bucket_hours: int = 6):
    """Hourly buckets folded into ``bucket_hours``-hour ones (the 7-day charts' 28 bars)."""
    folded = []
    for i in range(0, len(hourly), bucket_hours):
        group = hourly[i : i + bucket_hours]
        bucket = ActivityBucket(group[0].start)
        for b in group:
            bucket.succeeded += b.succeeded
            bucket.failed += b.failed
            bucket.attempts += b.attempts
            bucket.total_ms += b.total_ms
        folded.append(bucket)
    return folded
