"""Residents' pages of fund projects (no staff permission needed)."""

urlpatterns = []
