"""Closing the gaps notifications leave: rescan, reconcile and dead letters."""
