class ChannelInUse(Exception):
    """The channel may not be deleted. The message says why and what to do instead; safe to show."""
