"""Permission names owned by the core app (granted to roles in accounts.roles)."""

VIEW_AUDIT = "core.view_audit"
