"""complaintbot's own exception tree; vendor errors are translated into these at the edges."""

from __future__ import annotations


class ComplaintbotError(Exception):
    """Base class for every error complaintbot raises on purpose."""


class ConfigError(ComplaintbotError):
    """The configuration is invalid; ``problems`` holds one line per problem."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


class MissingSecret(ConfigError):
    """An environment variable that an enabled platform needs is not set."""


class IllegalTransition(ComplaintbotError):
    """A case was asked to move to a state its lifecycle does not allow."""


class CaseNotFound(ComplaintbotError):
    """No case has the given id."""


class PrivacyRequestError(ComplaintbotError):
    """No such privacy request, or it cannot take the change asked for (its status, its one
    extension, its deadline)."""


class DeliveryError(ComplaintbotError):
    """A call to a platform or to Slack failed.

    ``transient`` says whether the same call can succeed later; ``retry_after``
    (seconds) is set when the other side said when to come back.
    """

    transient = True

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class TransientError(DeliveryError):
    """An outage, a timeout, a malformed answer: try again later."""


class SetupError(TransientError):
    """Refused because of how the bot is set up (a wrong channel, the app not invited, a
    revoked token): every message of the same kind would fail alike, so they wait, the
    message says what to change, and they go out once it is changed."""


class RateLimited(TransientError):
    """The platform asked us to wait ``retry_after`` seconds."""


class UsageCapped(RateLimited):
    """The account's usage cap for the billing period is spent: every read (and post) is
    refused until the cap resets, ``retry_after`` seconds from now. Unlike a rate limit this
    lasts days or weeks, so the whole platform waits and the team is told once."""


class PermanentError(DeliveryError):
    """The other side refused for good (a rule, a duplicate, a deleted post): never retry."""

    transient = False


class AuthError(PermanentError):
    """Credentials were refused: stop and tell a person instead of retrying forever."""
