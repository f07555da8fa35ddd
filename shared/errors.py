"""Errors grouped by the recovery they need (freqtrade's taxonomy)."""


class PolybotError(Exception):
    """Base of the project's own errors."""


class TransientError(PolybotError):
    """Will probably resolve itself: leave the message pending and retry later."""


class MessageError(PolybotError):
    """This message can never be handled: dead-letter it and move on."""


class FatalError(PolybotError):
    """Needs a human: log it and exit non-zero so the supervisor's policy applies."""
