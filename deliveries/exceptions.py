class RetryRefused(Exception):
    """A manual retry was refused. The message says why and is safe to show to staff and integrators."""


class RecoverRefused(Exception):
    """A recover may not start now (another one of the channel is running). The message is safe to show."""


class NothingToResend(RecoverRefused):
    """The recover's window holds no failed delivery: no job was created."""
