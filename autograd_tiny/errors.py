"""Exceptions that carry a message meant for the user."""

from __future__ import annotations


class UsageError(ValueError):
    """Bad input from the user (a file, an argument): the command line prints the
    message as one line on stderr and exits with status 2."""
