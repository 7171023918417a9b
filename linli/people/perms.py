"""Permission names of the community register.

A leaf module of constants with no imports, so accounts.roles can grant them without importing
the people app (which sits below accounts).
"""

VIEW_REGISTER = "people.view_register"
MANAGE_REGISTER = "people.manage_register"
REVEAL_PII = "people.reveal_pii"
VIEW_SENSITIVE_TAGS = "people.view_sensitive_tags"
