"""Staff pages of fund projects."""

urlpatterns = []
