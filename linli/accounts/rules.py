"""Named permission rules: views, services and templates all ask `user.has_perm(perm, obj)`.

Every permission in roles.ROLE_PERMS becomes a rule answered by accounts.scoping: held at a
place that covers the object (or anywhere, without an object).
"""

import rules

from linli.accounts.roles import ALL_PERMS
from linli.accounts.scoping import user_can


def _scoped_rule(perm: str):
    @rules.predicate(name=f"in_scope:{perm}")
    def predicate(user, obj=None) -> bool:
        place = getattr(obj, "scope_place", obj)
        return user_can(user, perm, place)

    return predicate


for _perm in ALL_PERMS:
    rules.add_perm(_perm, _scoped_rule(_perm))
