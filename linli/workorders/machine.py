"""The work-order state machine of WORKORDERS.md §5.2 as data: every action, the states it
leaves from, the state it leads to, the permission it needs and what it must carry.

services.order_act runs an action; guards that depend on the order's data (the category may be
settled by the committee, the check passed …) live there, next to the effects.
"""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from linli.workorders import perms
from linli.workorders.choices import OPEN_STATES, Phase, State

S = State
# A summons is for an order the committee holds or a department handles: before registration
# it would dispatch without verification (T5) and registration (T9).
SUMMONS_STATES = OPEN_STATES - {S.REPORTED, S.VERIFYING, S.ACCEPTED, S.SELF_RESOLVED}


@dataclass(frozen=True)
class Action:
    code: str
    label: str
    sources: frozenset
    target: str | None  # None: the state does not change (a flag, a check result, a timer)
    perm: str
    step: str  # WORKORDERS.md §5.2 row
    needs_reason: bool = False
    needs_photo: bool = False
    # Only for the order's lead department: `perm` must be held through an assignment to it.
    department_only: bool = False


def _a(code, label, sources, target, perm, step, **kw) -> Action:
    return Action(code, label, frozenset(sources), target, perm, step, **kw)


ACTIONS: dict[str, Action] = {
    a.code: a
    for a in (
        _a(
            "self_handle",
            _("Settle in the committee"),
            [S.REPORTED],
            S.RC_HANDLING,
            perms.HANDLE_COMMITTEE,
            "T2",
        ),
        _a(
            "rc_close",
            _("Close as settled"),
            [S.RC_HANDLING],
            S.CLOSED,
            perms.HANDLE_COMMITTEE,
            "T3",
            needs_reason=True,
            needs_photo=True,  # except an errand's: its result is a paper, not a site
        ),
        _a(
            "escalate",
            _("Report to the street"),
            [S.REPORTED, S.RC_HANDLING],
            S.REPORTED,
            perms.HANDLE_COMMITTEE,
            "T4",
            needs_reason=True,
        ),
        _a(
            "send_verify",
            _("Send for verification"),
            [S.REPORTED],
            S.VERIFYING,
            perms.DISPATCH,
            "T5",
        ),
        _a(
            "verify",
            _("Confirm on site"),
            [S.VERIFYING],
            S.ACCEPTED,
            perms.PATROL,
            "T6",
            needs_photo=True,
        ),
        _a(
            "reject",
            _("Do not accept"),
            [S.REPORTED, S.VERIFYING],
            S.REJECTED,
            perms.DISPATCH,
            "T7",
            needs_reason=True,
        ),
        _a(
            "self_resolve",
            _("Settled on the spot"),
            [S.REPORTED],
            S.SELF_RESOLVED,
            perms.PATROL,
            "T8",
            needs_photo=True,
        ),
        _a(
            "approve_self_resolved",
            _("Approve and close"),
            [S.SELF_RESOLVED],
            S.CLOSED,
            perms.SUPERVISE,
            "T8",
        ),
        _a(
            "register",
            pgettext_lazy("work order action", "Register"),
            [S.REPORTED, S.ACCEPTED],
            S.REGISTERED,
            perms.SUPERVISE,
            "T9",
        ),
        _a("dispatch", _("Dispatch"), [S.REGISTERED], S.DISPATCHED, perms.DISPATCH, "T10"),
        _a(
            "sign_for",
            _("Sign for"),
            [S.DISPATCHED],
            S.IN_PROGRESS,
            perms.HANDLE_DEPARTMENT,
            "T11",
            department_only=True,
        ),
        _a(
            "request_return",
            _("Return (not ours)"),
            [S.DISPATCHED, S.IN_PROGRESS],
            S.RETURN_REQUESTED,
            perms.HANDLE_DEPARTMENT,
            "T12",
            needs_reason=True,
            department_only=True,
        ),
        _a(
            "approve_return",
            _("Approve the return"),
            [S.RETURN_REQUESTED],
            S.REGISTERED,
            perms.DISPATCH,
            "T12a",
        ),
        _a(
            "refuse_return",
            _("Refuse the return"),
            [S.RETURN_REQUESTED],
            S.IN_PROGRESS,
            perms.SUPERVISE,
            "T12b",
            needs_reason=True,
        ),
        _a(
            "request_extension",
            _("Ask for more time"),
            [S.IN_PROGRESS],
            S.EXTENSION_REQUESTED,
            perms.REQUEST_EXTENSION,  # the department's head (DM), not any handler
            "T13",
            needs_reason=True,
            department_only=True,
        ),
        _a(
            "approve_extension",
            _("Grant the extension"),
            [S.EXTENSION_REQUESTED],
            S.IN_PROGRESS,
            perms.SUPERVISE,
            "T13a",
        ),
        _a(
            "refuse_extension",
            _("Refuse the extension"),
            [S.EXTENSION_REQUESTED],
            S.IN_PROGRESS,
            perms.SUPERVISE,
            "T13a",
            needs_reason=True,
        ),
        _a(
            "request_suspension",
            _("Ask to suspend (long-term work)"),
            [S.IN_PROGRESS],
            S.SUSPENSION_REQUESTED,
            perms.HANDLE_DEPARTMENT,
            "T14",
            needs_reason=True,
            department_only=True,
        ),
        _a(
            "approve_suspension",
            _("Suspend"),
            [S.SUSPENSION_REQUESTED],
            S.SUSPENDED,
            perms.SUPERVISE,
            "T14",
        ),
        _a(
            "refuse_suspension",
            _("Refuse the suspension"),
            [S.SUSPENSION_REQUESTED],
            S.IN_PROGRESS,
            perms.SUPERVISE,
            "T14",
            needs_reason=True,
        ),
        _a("resume", _("Resume"), [S.SUSPENDED], S.IN_PROGRESS, perms.SUPERVISE, "T14"),
        _a(
            "feedback",
            _("Report as handled"),
            [S.IN_PROGRESS],
            S.FEEDBACK,
            perms.HANDLE_DEPARTMENT,
            "T15",
            needs_reason=True,
            needs_photo=True,
            department_only=True,
        ),
        _a("send_check", _("Send for check"), [S.FEEDBACK], S.CHECKING, perms.DISPATCH, "T15a"),
        _a(
            "check",
            _("Record the check"),
            [S.CHECKING],
            None,
            perms.PATROL,
            "T15b",
            needs_photo=True,
        ),
        _a("close", _("Close"), [S.CHECKING], S.CLOSED, perms.SUPERVISE, "T15b"),
        _a(
            "rework",
            _("Send back for rework"),
            [S.CHECKING],
            S.IN_PROGRESS,
            perms.SUPERVISE,
            "T15c",
            needs_reason=True,
        ),
        _a("rate", _("Rate"), [S.CLOSED], S.RATED, perms.REPORT, "T16"),
        _a(
            "reopen",
            _("Handle again"),
            [S.RATED],
            S.IN_PROGRESS,
            perms.SUPERVISE,
            "T16a",
            needs_reason=True,
        ),
        _a(
            "request_summons",
            _("Summon the departments (约请)"),
            SUMMONS_STATES,
            None,
            perms.HANDLE_COMMITTEE,
            "T17",
            needs_reason=True,
        ),
        _a(
            "decide_summons",
            _("Record the summons meeting"),
            SUMMONS_STATES,
            S.DISPATCHED,
            perms.SUPERVISE,
            "T17",
            needs_reason=True,
        ),
        _a(
            "escalate_district",
            _("Escalate to the district"),
            OPEN_STATES,
            None,
            perms.SUPERVISE,
            "T18",
            needs_reason=True,
        ),
        _a(
            "supervise",
            _("Press (督办)"),
            OPEN_STATES,
            None,
            perms.SUPERVISE,
            "SYS",
            needs_reason=True,
        ),
        _a(
            "archive",
            _("Archive"),
            [S.CLOSED, S.REJECTED, S.RATED],
            S.ARCHIVED,
            perms.SUPERVISE,
            "T19",
        ),
    )
}

# Where the clock runs in each state (the phase whose time limit applies).
STATE_PHASE: dict[str, str] = {
    S.REPORTED: Phase.REGISTER,
    S.ACCEPTED: Phase.REGISTER,
    S.VERIFYING: Phase.VERIFY,
    S.REGISTERED: Phase.DISPATCH,
    S.DISPATCHED: Phase.SIGN,
    S.IN_PROGRESS: Phase.HANDLE,
    S.RETURN_REQUESTED: Phase.HANDLE,
    S.EXTENSION_REQUESTED: Phase.HANDLE,
    S.SUSPENSION_REQUESTED: Phase.HANDLE,
    S.FEEDBACK: Phase.CHECK,
    S.CHECKING: Phase.CHECK,
    S.RC_HANDLING: Phase.COMMITTEE,
    S.SELF_RESOLVED: Phase.REGISTER,
}


def available(state: str) -> list[Action]:
    """Actions that may leave `state` (before permissions and guards)."""
    return [a for a in ACTIONS.values() if state in a.sources]
