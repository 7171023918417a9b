"""Topics and deliberation: permissions (leaf module: roles import these names)."""

PARTICIPATE = "deliberation.participate"  # raise a topic, back it, comment, report, appeal
MODERATE = "deliberation.moderate"  # answer topics, merge, hide comments, decide appeals
VIEW_TOPICS = "deliberation.view_topics"  # staff overview of topics under one's places
