"""Exceptions raised by the engine. Each carries enough context to name the culprit."""

from __future__ import annotations


class PbcountError(Exception):
    """Base class for every error the engine raises on purpose."""


class ElectionDefinitionError(PbcountError):
    """The election definition file is malformed or inconsistent.

    ``location`` names the file and the offending key path (e.g. ``election.toml: projects[3].cost``).
    """

    def __init__(self, location: str, message: str) -> None:
        super().__init__(f"{location}: {message}")
        self.location = location
        self.message = message


class ElectionFrozenError(PbcountError):
    """The store already holds a different (frozen) election definition."""


class TokenError(PbcountError):
    """A voter token failed verification. ``reason`` is a stable machine-readable code."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class KeyFileError(PbcountError):
    """A key file is missing, malformed, or has unsafe permissions."""


class StoreError(PbcountError):
    """The store cannot do what was asked (e.g. no election frozen yet)."""


class ElectionClosedError(StoreError):
    """Online intake is closed (``Store.close_election``): the write was refused, nothing stored."""


class PublishError(PbcountError):
    """The store cannot be published as it is (inconsistent state, pending review, a ballot
    whose content no longer matches its key)."""
