"""REST API routes (/api/v1/, schema, docs). Filled in by the API work."""

urlpatterns = []
