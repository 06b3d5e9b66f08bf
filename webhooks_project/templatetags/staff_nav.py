"""The staff navigation, page titles and breadcrumbs (webhooks_project/navigation.py).

- ``{% staff_navigation as sections %}``: the sidebar's sections, one entry current.
- ``{% staff_title %}``: the page title written for people. Django's generic titles ("Select
  delivery to change", "Change channel", "Add channel") become "Deliveries", "Channel Shop
  backend", "New postback channel"; a title a page sets itself is kept.
- ``{% staff_breadcrumbs %}``: Dashboard › list › object › action, the one breadcrumb scheme.
"""

from django import template
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext

from webhooks_project.navigation import (
    NEW_CHANNEL_TITLES,
    build_sections,
    model_key,
    object_label,
    plural_label,
    singular_label,
)

register = template.Library()


@register.simple_tag(takes_context=True)
def staff_navigation(context):
    request = context.get("request")
    app_list = context.get("available_apps") or context.get("app_list") or []
    if request is None:
        return []
    return build_sections(app_list, user=request.user, path=request.path)


def _people_title(context) -> str:
    title = str(context.get("title") or "")
    opts = context.get("opts")
    if opts is None or not title:
        return title
    name = opts.verbose_name
    if title in (gettext("Select %s to change") % name, gettext("Select %s to view") % name):
        return plural_label(opts)
    if title == gettext("Add %s") % name:
        if model_key(opts) == "channels.channel":
            request = context.get("request")
            kind = request.GET.get("kind") or request.POST.get("kind") if request else None
            return str(NEW_CHANNEL_TITLES.get(kind, gettext("New channel")))
        return title
    if title in (gettext("Change %s") % name, gettext("View %s") % name):
        original = context.get("original")
        return f"{singular_label(opts)} {object_label(original)}".strip()
    return title


@register.simple_tag(takes_context=True)
def staff_title(context):
    return _people_title(context)


@register.simple_tag(takes_context=True)
def staff_subtitle(context):
    """Django's subtitle (the object's name) only where the title does not already say it."""
    subtitle = context.get("subtitle")
    if not subtitle or _people_title(context) != str(context.get("title") or ""):
        return ""
    return subtitle


def _url(name, *args):
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None


@register.inclusion_tag("admin/includes/staff_breadcrumbs.html", takes_context=True)
def staff_breadcrumbs(context, last=None, obj=None):
    """Dashboard › the model's list › the object (linked when an action follows) › ``last``.

    ``obj`` defaults to the page's ``original``; ``last`` names an action ("Delete", "History").
    """
    obj = obj if obj is not None else context.get("original")
    opts = obj._meta if obj is not None and hasattr(obj, "_meta") else context.get("opts")
    crumbs = [(gettext("Dashboard"), reverse("admin:index"))]
    if opts is not None:
        crumbs.append((plural_label(opts), _url(f"admin:{opts.app_label}_{opts.model_name}_changelist")))
        if obj is not None and getattr(obj, "pk", None) is not None:
            crumbs.append(
                (object_label(obj), _url(f"admin:{opts.app_label}_{opts.model_name}_change", obj.pk) if last else None)
            )
        elif context.get("add"):
            crumbs.append((_people_title(context), None))
    if last:
        crumbs.append((str(last), None))
    # The last crumb is the page itself: never a link.
    crumbs[-1] = (crumbs[-1][0], None)
    return {"crumbs": crumbs}
