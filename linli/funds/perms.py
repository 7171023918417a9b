"""Fund permissions (leaf module: roles import these names).

Where a permission applies comes from the assignment's place (accounts.scoping). A street
assignment covers the street's committees too, so the street's own funds (co-governance fund,
community foundation) have their own permission: the street office oversees committees' funds
but does not spend them.
"""

VIEW_FUNDS = "funds.view"  # accounts, balances and statements under one's places
MANAGE_FUNDS = "funds.manage"  # a committee's funds: commit, pay, refund, release, reverse
MANAGE_STREET_FUNDS = "funds.manage_street"  # a street's co-governance fund and foundation
ALLOCATE = "funds.allocate"  # yearly allocations to committees and the street; year-end close
