"""notifier's exceptions: one hierarchy, so callers can catch what they mean."""


class NotifierError(Exception):
    """Base of every error notifier raises on purpose."""


class ConfigError(NotifierError):
    """A setting is missing or malformed; the message names the variable."""


class PayloadError(NotifierError):
    """A webhook body is not an object event notifier understands."""


class TransientError(NotifierError):
    """A failure worth retrying later: the store or the database was unreachable."""


class DatabaseUnavailable(TransientError):
    """PostgreSQL could not be reached or refused the work; nothing was stored."""
