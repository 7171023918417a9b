"""What a reporter is told about their report (WORKORDERS.md §5.2 T7, issue 4 item 6).

In-app notifications (linli.notices), written in the same transaction as the step, so they roll
back with it; the configured senders relay them after commit. Each links to the reporter's own
order page. The text is in the site's language (not the acting worker's) and names no one: not
the reporter's phone, not another reporter, not the worker.

A report made by phone (12345 import), through Open311 or on patrol has no reporting account:
nobody is notified (the hotline calls back through its own channel).
"""

from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from linli.notices.choices import NotificationKind
from linli.workorders.choices import RejectReason, State
from linli.workorders.models import WorkOrder

REJECTED_TITLE = _("Your report #%(n)s was not accepted")
REJECTED_BODY = _("Reason: %(reason)s. %(note)s")
MERGED_TITLE = _("Your report #%(n)s was merged into report #%(original)s")
MERGED_BODY = _(
    "The same problem was already reported and is handled there. You will be told the outcome."
)
MERGED_REJECTED_BODY = _(
    "It was merged into report #%(original)s, which was not accepted: %(reason)s."
)
RESOLVED_TITLE = _("Your report #%(n)s has been resolved")
RESOLVED_BODY = _("Result: %(result)s")
RATE_PLEASE = _("Please rate how it was handled.")
MERGED_RESOLVED_BODY = _("It was merged into report #%(original)s, which was resolved on %(day)s.")
REOPENED_TITLE = _("Your report #%(n)s is being handled again")
REOPENED_BODY = _("Your rating was accepted and it goes back to be handled again. %(note)s")

# Orders merged into one that were merged again: follow the links this deep at most.
MAX_MERGE_DEPTH = 5


def _url(order: WorkOrder) -> str:
    return reverse("workorders:order", args=[order.pk])


def _tell(order: WorkOrder, title, body) -> None:
    from linli.notices.services import notify

    reporter = order.reporter
    if reporter is None or not reporter.is_active:
        return
    notify(
        users=[reporter],
        kind=NotificationKind.WORK_ORDER,
        title=str(title),
        body=" ".join(str(body).split()),
        url=_url(order),
    )


def merged_into(order: WorkOrder) -> list[WorkOrder]:
    """Orders with a reporting account merged into this one, directly or through another
    merged order, oldest first."""
    found: list[WorkOrder] = []
    seen = {order.pk}
    frontier = [order.pk]
    for _depth in range(MAX_MERGE_DEPTH):
        rows = list(
            WorkOrder.objects.filter(duplicate_of_id__in=frontier)
            .exclude(pk__in=seen)
            .select_related("reporter")
            .order_by("created_at", "id")
        )
        if not rows:
            break
        seen.update(r.pk for r in rows)
        frontier = [r.pk for r in rows]
        found.extend(rows)
    return [r for r in found if r.reporter_id is not None]


def _reject_label(data: dict) -> str:
    code = data.get("reject_reason", "")
    return str(RejectReason(code).label) if code in RejectReason.values else ""


def reporters_tell(order: WorkOrder, *, action: str, before: str, reason: str, data: dict):
    """After a step of order_act: tell the reporter (and those of the reports merged into this
    one) what came of it. Rejection (T7) with its reason, a merge as a duplicate, the outcome
    of a closing (T3, T8, T15b) and a reopening (T16a) accepted; other steps say nothing."""
    with translation.override(settings.LANGUAGE_CODE):
        n = order.pk
        if action == "reject":
            label = _reject_label(data)
            if data.get("reject_reason") == RejectReason.DUPLICATE:
                _tell(
                    order,
                    MERGED_TITLE % {"n": n, "original": order.duplicate_of_id},
                    MERGED_BODY,
                )
                return
            _tell(
                order, REJECTED_TITLE % {"n": n}, REJECTED_BODY % {"reason": label, "note": reason}
            )
            for other in merged_into(order):
                _tell(
                    other,
                    REJECTED_TITLE % {"n": other.pk},
                    MERGED_REJECTED_BODY % {"original": n, "reason": label},
                )
        elif order.state == State.CLOSED and before != State.CLOSED:
            result = (order.result or "").strip()
            body = f"{RESOLVED_BODY % {'result': result}} {RATE_PLEASE}" if result else RATE_PLEASE
            _tell(order, RESOLVED_TITLE % {"n": n}, body)
            day = timezone.localtime(order.closed_at).date().isoformat()
            for other in merged_into(order):
                # Theirs was somebody else's report: the date it was fixed, not its text.
                _tell(
                    other,
                    RESOLVED_TITLE % {"n": other.pk},
                    MERGED_RESOLVED_BODY % {"original": n, "day": day},
                )
        elif action == "reopen":
            _tell(order, REOPENED_TITLE % {"n": n}, REOPENED_BODY % {"note": reason})
