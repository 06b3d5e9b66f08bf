"""One navigation for the staff pages (SPEC section 7): sections, people's labels and page titles.

- **Postbacks** first: Dashboard, System notifications, Channels, Orders, Deliveries.
- **Records**: the read-only logs behind them (events, subscriptions, audit trail, demo receipts).
- **Administration**: Django's and the libraries' internals (users, groups, tokens, the task
  queue, login lockouts), shown to superusers only.

The sections are built from the admin's own app list (``AdminSite.get_app_list``), so every
entry keeps Django's permission checks; exactly one entry is marked current. Page titles and
breadcrumbs use the same labels (``webhooks_project/templatetags/staff_nav.py``).
"""

from dataclasses import dataclass, field

from django.urls import reverse
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

# "app_label.model_name" -> (plural label, singular label), in the order shown.
POSTBACKS = {
    "events.eventtype": (_("System notifications"), _("System notification")),
    "channels.channel": (_("Channels"), _("Channel")),
    "events.order": (_("Orders"), _("Order")),
    "deliveries.delivery": (_("Deliveries"), _("Delivery")),
}
RECORDS = {
    "events.event": (_("Events"), _("Event")),
    "channels.subscription": (_("Channel attachments"), _("Channel attachment")),
    "admin.logentry": (_("Audit trail"), _("Audit entry")),
    "deliveries.demoreceipt": (_("Demo receipts"), _("Demo receipt")),
}
LABELS = {**POSTBACKS, **RECORDS}

# "New postback channel" and its siblings (the add page's ?kind=).
NEW_CHANNEL_TITLES = {
    "postback": _("New postback channel"),
    "email": _("New e-mail channel"),
    "slack": _("New Slack channel"),
}


@dataclass
class NavEntry:
    label: str
    url: str
    current: bool = False


@dataclass
class NavSection:
    key: str
    label: str
    entries: list[NavEntry] = field(default_factory=list)


def model_key(opts) -> str:
    return f"{opts.app_label}.{opts.model_name}"


def plural_label(opts) -> str:
    labels = LABELS.get(model_key(opts))
    return str(labels[0]) if labels else str(opts.verbose_name_plural)[:1].upper() + str(opts.verbose_name_plural)[1:]


def singular_label(opts) -> str:
    labels = LABELS.get(model_key(opts))
    return str(labels[1]) if labels else str(opts.verbose_name)[:1].upper() + str(opts.verbose_name)[1:]


def object_label(obj) -> str:
    """How a page names one object: "#13" for a delivery, a type's name in the active language."""
    if obj is None:
        return ""
    if obj._meta.label_lower == "deliveries.delivery":
        return f"#{obj.pk}"
    return str(getattr(obj, "local_name", None) or obj)


def build_sections(app_list, *, user, path: str) -> list[NavSection]:
    """The sidebar's sections from the admin's app list; one entry (the longest matching URL) is current."""
    models = {
        f"{app['app_label']}.{model['object_name'].lower()}": model
        for app in app_list
        for model in app["models"]
        if model.get("admin_url")
    }
    index_url = reverse("admin:index")
    postbacks = NavSection("postbacks", gettext("Postbacks"), [NavEntry(gettext("Dashboard"), index_url)])
    records = NavSection("records", gettext("Records"))
    administration = NavSection("administration", pgettext_lazy("navigation section", "Administration"))
    for key, (label, _singular) in POSTBACKS.items():
        if key in models:
            postbacks.entries.append(NavEntry(str(label), models[key]["admin_url"]))
    for key, (label, _singular) in RECORDS.items():
        if key in models:
            records.entries.append(NavEntry(str(label), models[key]["admin_url"]))
    if user.is_superuser:
        for app in app_list:
            for model in app["models"]:
                key = f"{app['app_label']}.{model['object_name'].lower()}"
                if key not in LABELS and model.get("admin_url"):
                    administration.entries.append(NavEntry(f"{model['name']} ({app['name']})", model["admin_url"]))
    sections = [s for s in (postbacks, records, administration) if s.entries]
    candidates = [e for s in sections for e in s.entries if e.url != index_url and path.startswith(e.url)]
    if candidates:
        max(candidates, key=lambda e: len(e.url)).current = True
    elif path == index_url:
        postbacks.entries[0].current = True
    return sections
