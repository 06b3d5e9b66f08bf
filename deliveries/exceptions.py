class RetryRefused(Exception):
    """A manual retry was refused. The message says why and is safe to show to staff and integrators."""
