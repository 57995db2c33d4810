"""Errors: the modelled ones users catch through botocore, and the emulator's own."""
from __future__ import annotations


class AppFlowError(Exception):
    """A modelled AppFlow error. The HTTP status comes from the model's error shape."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def validation(message: str) -> AppFlowError:
    return AppFlowError("ValidationException", message)


def not_found(message: str) -> AppFlowError:
    return AppFlowError("ResourceNotFoundException", message)


def conflict(message: str) -> AppFlowError:
    return AppFlowError("ConflictException", message)


class EmulatorError(RuntimeError):
    """A bug or a gap in appflow_emu itself, never an AppFlow answer.

    Raised instead of a raw traceback from inside botocore's event machinery, and instead of a
    500 (which botocore would retry with real sleeps).
    """
