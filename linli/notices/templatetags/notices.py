"""{% load notices %}{% notices_unread as n %}: the signed-in user's unread notifications, for the
badge in the top bar (one COUNT query, remembered for the rest of the request)."""

from django import template

from linli.notices.selectors import unread_count

register = template.Library()

_CACHE_ATTR = "_linli_unread_notifications"


@register.simple_tag(takes_context=True)
def notices_unread(context) -> int:
    request = context.get("request")
    user = getattr(request, "user", None) or context.get("user")
    if user is None or not user.is_authenticated:
        return 0
    if request is None:
        return unread_count(user=user)
    if not hasattr(request, _CACHE_ATTR):
        setattr(request, _CACHE_ATTR, unread_count(user=user))
    return getattr(request, _CACHE_ATTR)
