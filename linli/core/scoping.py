"""The one scoping entry point: which rows a viewer may see.

Every place-scoped row can name the materialized path of its place (`scope_path`). A viewer's
role assignments give a set of path prefixes per permission; `for_viewer` keeps the rows whose
path lies under one of them. Paths are fixed-width digit segments, so "under prefix P" is the
index-friendly range P <= path < successor(P) on every database and collation.
"""

from django.db import models
from django.db.models import Q

SEGMENT_WIDTH = 10


def path_segment(pk: int) -> str:
    return f"{pk:0{SEGMENT_WIDTH}d}"


def path_successor(prefix: str) -> str:
    """Smallest string of the same length greater than every string starting with `prefix`."""
    successor = str(int(prefix) + 1).zfill(len(prefix))
    if len(successor) != len(prefix):
        raise ValueError("path prefix overflow")
    return successor


def under_q(prefix: str, field: str = "path") -> Q:
    """Rows whose `field` is `prefix` or lies under it."""
    return Q(**{f"{field}__gte": prefix, f"{field}__lt": path_successor(prefix)})


def collapse_prefixes(prefixes: list[str]) -> list[str]:
    """Drop prefixes already covered by a shorter one."""
    kept: list[str] = []
    for prefix in sorted(set(prefixes), key=len):
        if not any(prefix.startswith(k) for k in kept):
            kept.append(prefix)
    return sorted(kept)


def covers(prefixes: list[str], path: str) -> bool:
    return any(path.startswith(p) for p in prefixes)


class ScopedQuerySet(models.QuerySet):
    """QuerySet for models with a `scope_path` class attribute naming their path lookup."""

    def for_viewer(self, viewer, perm: str):
        prefixes = viewer.scope_prefixes(perm) if viewer is not None else []
        if not prefixes:
            return self.none()
        field = self.model.scope_path
        condition = Q()
        for prefix in prefixes:
            condition |= under_q(prefix, field)
        return self.filter(condition)
