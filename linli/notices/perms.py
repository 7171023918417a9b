"""Public notices and notifications: permissions (leaf module: roles import these names)."""

PUBLISH = "notices.publish"  # publish on a community board, answer objections
