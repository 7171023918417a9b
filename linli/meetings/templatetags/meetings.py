"""{% load meetings %}: what other apps' pages show of meetings.

The deliberation app may not import the meetings app (meetings imports deliberation), so the topic
page asks through these tags:

- {% topic_meetings topic as held %}: the meetings the viewer may see whose agenda holds the topic
  (one query);
- {% may_put_on_agenda topic as can %}: whether the viewer may put the topic on one of its
  committee's meetings (meetings:agenda_from_topic).
"""

from django import template

from linli.meetings import selectors

register = template.Library()


def _viewer(context):
    request = context.get("request")
    return getattr(request, "user", None) or context.get("user")


@register.simple_tag(takes_context=True)
def topic_meetings(context, topic) -> list:
    viewer = _viewer(context)
    if viewer is None or not viewer.is_authenticated:
        return []
    return selectors.meetings_holding_topic(viewer=viewer, topic=topic)


@register.simple_tag(takes_context=True)
def may_put_on_agenda(context, topic) -> bool:
    viewer = _viewer(context)
    if viewer is None or not viewer.is_authenticated:
        return False
    return selectors.may_put_on_agenda(viewer=viewer, topic=topic)
