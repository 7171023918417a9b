"""Votes and elections: permissions (leaf module: roles import these names)."""

CAST = "votes.cast"  # vote online in one's own community
MANAGE_VOTES = "votes.manage"  # set up, open and close votes
RECORD_BALLOTS = "votes.record_ballots"  # record and confirm paper ballots and proxies
VIEW_VOTES = "votes.view"  # staff overview of votes and results under one's places
