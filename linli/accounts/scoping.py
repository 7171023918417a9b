"""The central answer to "may this user do X here" and "which rows may this user see".

A user's assignments are loaded once per request (two queries) and cached on the user object.
Each assignment grants its role's permissions under one or more path prefixes: its place, or for
a grid worker the compounds of the grid.
"""

from dataclasses import dataclass

from linli.accounts.roles import ROLE_PERMS, SECOND_FACTOR_ROLES, Role
from linli.core.scoping import collapse_prefixes, covers

_CACHE_ATTR = "_linli_grants"


@dataclass(frozen=True)
class Grant:
    role: str
    perms: frozenset[str]
    prefixes: tuple[str, ...]
    place_id: int
    place_name: str
    place_kind: str
    grid_id: int | None
    department_id: int | None


def grants(user) -> list[Grant]:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return []
    cached = getattr(user, _CACHE_ATTR, None)
    if cached is not None:
        return cached
    from linli.accounts.models import RoleAssignment

    result = []
    assignments = (
        RoleAssignment.objects.filter(user=user)
        .select_related("place")
        .prefetch_related("grid__compounds")
    )
    for a in assignments:
        if a.role == Role.GRID_WORKER and a.grid is not None:
            prefixes = tuple(c.path for c in a.grid.compounds.all())
        else:
            prefixes = (a.place.path,)
        result.append(
            Grant(
                role=a.role,
                perms=ROLE_PERMS.get(a.role, frozenset()),
                prefixes=prefixes,
                place_id=a.place_id,
                place_name=a.place.name,
                place_kind=a.place.kind,
                grid_id=a.grid_id,
                department_id=a.department_id,
            )
        )
    setattr(user, _CACHE_ATTR, result)
    return result


def forget_grants(user) -> None:
    if hasattr(user, _CACHE_ATTR):
        delattr(user, _CACHE_ATTR)


def scope_prefixes(user, perm: str) -> list[str]:
    return collapse_prefixes([p for g in grants(user) if perm in g.perms for p in g.prefixes])


def user_can(user, perm: str, place=None) -> bool:
    """May `user` use `perm` at `place` (or anywhere, when place is None)?"""
    prefixes = scope_prefixes(user, perm)
    if place is None:
        return bool(prefixes)
    path = place if isinstance(place, str) else place.path
    return covers(prefixes, path)


def roles_at(user, place) -> list[str]:
    """The user's roles whose scope covers `place` (all roles when place is None)."""
    return sorted(
        {g.role for g in grants(user) if place is None or covers(list(g.prefixes), place.path)}
    )


def requires_second_factor(user) -> bool:
    return any(g.role in SECOND_FACTOR_ROLES for g in grants(user))


def home_paths(user) -> list[str]:
    """The household paths where `user` holds the resident role (usually one): where they live,
    and so the committee and compound whose topics, meetings, votes and board are theirs."""
    return [g.prefixes[0] for g in grants(user) if g.role == Role.RESIDENT]
