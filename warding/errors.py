"""Errors that Warding reports to people (CLI and API), never as tracebacks."""

from __future__ import annotations


class WardingError(Exception):
    """An error with a message fit to show to the user."""


class NotFound(WardingError):
    """A named object (bank, case, item, user) does not exist."""


class InvalidInput(WardingError):
    """An input was rejected; the message names the input and the reason."""


class PermissionDenied(WardingError):
    """The user's role does not allow this."""


class Conflict(WardingError):
    """The request conflicts with the current state (e.g. a case already decided)."""


class TooLarge(InvalidInput):
    """An input is over a size limit (HTTP 413); the message names it and the limit."""
