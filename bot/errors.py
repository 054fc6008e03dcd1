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
