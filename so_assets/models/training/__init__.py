"""Training machinery: the torch loop and model base, networks, losses, batching, progress."""
