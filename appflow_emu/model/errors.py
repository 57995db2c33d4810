"""Errors, and the texts of the errors more than one place raises.

- :class:`AppFlowError` is a modelled AppFlow error raised by the backend; dispatch turns it into
  the wire answer (the HTTP status comes from the model's error shape for its code). Users never
  see it: botocore raises its own ``ClientError`` from that answer.
- :class:`EmulatorError` is a bug or a gap in appflow_emu itself, never an AppFlow answer.
- :class:`NotFoundError` and :class:`AmbiguousNameError` are the handle's: a verb named a flow,
  profile, connector label, execution, bucket or object that does not exist, or that exists in
  several accounts and regions.
- An exception raised by the user's own code that the emulator called (a ``fail_records``
  predicate, a plugged-in custom connector) is reported with a message naming the callback
  (:func:`callable_name`), so the fault is not blamed on the library.

Texts said in more than one place (an API error and a run's error message, say) are written once
here, so the two cannot drift apart.
"""
from __future__ import annotations

from typing import Any, Iterable


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


class NotFoundError(KeyError):
    """A handle verb named something that does not exist (the message says what does).

    A ``KeyError``, so ``except KeyError`` keeps working; ``str()`` is the plain message.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class AmbiguousNameError(LookupError):
    """A handle verb named something that exists in several accounts or regions: pass
    ``region=`` (and ``account_id=``) to say which."""


def callable_name(fn: Any) -> str:
    """How a message names a user's function or object: its qualified name where it has one."""
    name = getattr(fn, "__qualname__", None) or getattr(type(fn), "__qualname__", None) or repr(fn)
    module = getattr(fn, "__module__", None) or getattr(type(fn), "__module__", None)
    return f"{module}.{name}" if module and module != "builtins" else str(name)


def counted(n: int, noun: str, plural: str = "") -> str:
    """``1 flow``, ``2 flows``: a count with its noun, plural (``plural`` or noun + s) unless one."""
    return f"{n} {noun if n == 1 else (plural or noun + 's')}"


def listing(names: Iterable[str], limit: int = 20) -> str:
    """Names for a message: sorted, quoted, at most ``limit`` of them; ``(none)`` when empty."""
    items = sorted({str(n) for n in names})
    if not items:
        return "(none)"
    shown = ", ".join(repr(n) for n in items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


# -- texts said in more than one place ---------------------------------------------------------


def profile_not_found_text(name: str) -> str:
    return f"Connector Profile with name {name} does not exist."


def profile_not_found(name: str) -> AppFlowError:
    return not_found(profile_not_found_text(name))


def flow_not_found(name: str) -> AppFlowError:
    return not_found(f"Flow with name {name} does not exist.")  # [guess] text


def registration_not_found(label: str) -> AppFlowError:
    return not_found(f"Connector with label {label} does not exist.")  # [guess] text


def credentials_rejected_text(profile: str) -> str:
    """Said by AppFlow where it checks a profile's credentials (ConnectorAuthenticationException)
    and by a run of a flow through that profile (its executionMessage)."""
    return (f"The connector rejected the credentials of connector profile {profile}. "
            "Update the connector profile with valid credentials.")


def credentials_rejected(profile: str) -> AppFlowError:
    return AppFlowError("ConnectorAuthenticationException", credentials_rejected_text(profile))


def label_not_registered_text(label: str, profile: str) -> str:
    """A run through a profile whose custom connector was unregistered (forceDelete)."""
    return f"The custom connector {label} of connector profile {profile} is not registered."


def destination_bucket_missing_text(what: str, bucket: str) -> str:
    """A run cannot write to an S3 bucket. [guess: AppFlow's exact wording]"""
    return (f"{what} bucket {bucket} does not exist or Amazon AppFlow cannot access it, "
            f"S3 error NoSuchBucket.")


def connector_failed_text(label: str, what: str, error: BaseException, method: Any) -> str:
    """A plugged-in custom connector's method raised: said by discovery (ConnectorServerException)
    and by a run (its executionMessage). The fault is the connector's: its method is named."""
    return (f"The custom connector {label} failed to {what}: {type(error).__name__}: {error} "
            f"(raised by {callable_name(method)})")


def source_bucket_missing_text(bucket: str) -> str:
    """An S3 source bucket (or an S3 entity) that does not exist. [guess]"""
    return f"The S3 bucket {bucket} does not exist or is not accessible."


class InvalidStateError(ValueError):
    """A saved state document (``emu.restore``/``emu.load``) that cannot be restored: not JSON, of
    another format or version, or not matching the schema (the message names the bad path).
    Nothing is changed."""
