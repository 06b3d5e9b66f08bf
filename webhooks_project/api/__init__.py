"""The REST API under /api/ (SPEC section 8): its routes, the views that need more than one app, its error mapping."""
