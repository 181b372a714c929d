"""The errors of export and import: the message says why, for the person running ``decision-log``."""

from __future__ import annotations


class BackupError(Exception):
    """The export or import cannot go on; the message says why, for the person running it."""


class TargetNotEmpty(BackupError):
    """The import target already holds data and ``force`` was not given."""
