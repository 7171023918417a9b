"""Fund-project permissions (leaf module: roles import these names).

The steps are split between people on purpose (four eyes): a committee worker applies, the
committee's director or party secretary checks and co-signs payments, reviewers of the street's
panel score, and the street's self-governance office decides, publishes, approves, accepts and
closes. Residents need no permission: they object to the public notice (notices app) and answer
the satisfaction survey as members of the community.
"""

VIEW_PROJECTS = "projects.view"  # projects under one's places, with their records
APPLY = "projects.apply"  # draft, submit, request payments, report completion
CHECK = "projects.check"  # the committee's check of an application; payment approvals
REVIEW = "projects.review"  # score applications and evaluations on the street's panel
DECIDE = "projects.decide"  # the street: review decision, notice, approval, acceptance, close
