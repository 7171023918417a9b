"""Meetings and decisions: permissions (leaf module: roles import these names)."""

MANAGE_MEETINGS = "meetings.manage"  # convene, invite, check in, run the console, minutes
VIEW_MEETINGS = "meetings.view"  # staff overview of meetings under one's places
