"""How the handle checks what it is given: a verb's argument of the wrong kind is a TypeError, a bad
value a ValueError, each saying what was expected; a verb's old keyword name works with a
DeprecationWarning (``renamed``); an attribute the handle does not have, set or read, is an
AttributeError naming the closest one (``StrictAttributes``)."""
from __future__ import annotations

import difflib
import functools
import inspect
import warnings
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Tuple, TypeVar

from appflow_emu.model.regions import region_name

Record = Dict[str, Any]

ACCOUNT_DIGITS = 12


def where(region: Optional[str], account_id: Optional[str]) -> str:
    if region is None and account_id is None:
        return "in any account or region"
    parts = []
    if account_id is not None:
        parts.append(f"account {account_id}")
    if region is not None:
        parts.append(f"region {region}")
    return "in " + " ".join(parts)


def string_arg(name: str, value: Any) -> str:
    """A string, which may be empty."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, got {type(value).__name__}: {value!r:.80}")
    return value


def text_arg(name: str, value: Any) -> str:
    """A string that is not empty."""
    if not string_arg(name, value):
        raise ValueError(f"{name} must not be empty")
    return value


def optional_text_arg(name: str, value: Any) -> Optional[str]:
    return None if value is None else text_arg(name, value)


def flag_arg(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False, got {type(value).__name__}: {value!r:.80}")
    return value


def region_arg(value: Any, name: str = "region") -> Optional[str]:
    """None, or a region name a botocore client accepts."""
    return None if value is None else region_name(value, name)


def account_arg(value: Any, name: str = "account_id") -> Optional[str]:
    """None, or an AWS account id: 12 digits."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string of {ACCOUNT_DIGITS} digits, got {type(value).__name__}: "
                        f"{value!r:.80}")
    if not (len(value) == ACCOUNT_DIGITS and value.isascii() and value.isdigit()):
        raise ValueError(f"{name} must be {ACCOUNT_DIGITS} digits, got {value!r:.80}")
    return value


def place_args(region: Any, account_id: Any) -> Tuple[Optional[str], Optional[str]]:
    """A verb's ``region=`` and ``account_id=`` (each None, or a region name / an account id)."""
    return region_arg(region), account_arg(account_id)


def records_arg(records: Any) -> List[Record]:
    if isinstance(records, Mapping):
        raise TypeError("records must be a list of dicts; got one dict: pass [record]")
    if isinstance(records, (str, bytes, bytearray)) or not isinstance(records, Iterable):
        raise TypeError(f"records must be a list of dicts, got {type(records).__name__}")
    rows: List[Record] = []
    for n, record in enumerate(records):
        if not isinstance(record, Mapping):
            raise TypeError(f"records must be a list of dicts; record {n} is a {type(record).__name__}: {record!r:.80}")
        rows.append(dict(record))
    return rows


def count_arg(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {value!r}")
    if value < 0:
        raise ValueError(f"{name} must be 0 or more, got {value}")
    return value


def endpoint_arg(name: str, value: Any) -> Optional[str]:
    if value is not None and not (isinstance(value, str) and value.startswith(("http://", "https://"))):
        raise ValueError(f"{name} must be an http(s) URL or None, got {value!r}")
    return value  # type: ignore[no-any-return]


# -- the handle's names: old keyword names, unknown attributes ----------------------------------------

F = TypeVar("F", bound=Callable[..., Any])


def renamed(**old_to_new: str) -> Callable[[F], F]:
    """Keep a verb's old keyword names working: ``@renamed(flow_name="flow")`` takes
    ``flow_name=`` as ``flow=``, with a DeprecationWarning naming the new name (both is a
    TypeError). The verb's signature (``inspect.signature``) stays the new one."""
    def decorate(verb: F) -> F:
        @functools.wraps(verb)
        def taking_old_names(*args: Any, **kwargs: Any) -> Any:
            for old, new in old_to_new.items():
                if old in kwargs:
                    if new in kwargs:
                        raise TypeError(f"{verb.__name__}() got both {old}= and {new}=: {old}= is the old "
                                        f"name of {new}=; pass {new}= only")
                    warnings.warn(f"{verb.__name__}({old}=...) is deprecated: its name is now {new}= "
                                  f"({verb.__name__}({new}=...))", DeprecationWarning, stacklevel=2)
                    kwargs[new] = kwargs.pop(old)
            return verb(*args, **kwargs)

        taking_old_names.renamed_parameters = dict(old_to_new)  # type: ignore[attr-defined]
        return taking_old_names  # type: ignore[return-value]

    return decorate


def did_you_mean(name: str, names: Iterable[str]) -> str:
    """`` Did you mean 'x'?`` for the closest of ``names`` (difflib's), or ''."""
    close = difflib.get_close_matches(name, sorted(names), n=1, cutoff=0.6)
    return f" Did you mean {close[0]!r}?" if close else ""


class StrictAttributes:
    """A user's object that refuses attributes it does not have: setting one that is not a setting
    (a property with a setter), or reading one that does not exist, is an AttributeError naming the
    closest member and listing the settings (or the members). Names with a leading underscore are
    left to ``__slots__``, which every class using this declares."""

    __slots__ = ()
    _what = "this object"  # how messages name it
    _read_only_note = ""  # said when a read-only property is assigned

    @classmethod
    def _members(cls) -> Dict[str, Any]:
        return {name: inspect.getattr_static(cls, name) for name in dir(cls) if not name.startswith("_")}

    @classmethod
    def _settings(cls) -> List[str]:
        return sorted(n for n, m in cls._members().items() if isinstance(m, property) and m.fset is not None)

    def __setattr__(self, name: str, value: Any) -> None:
        cls = type(self)
        if name.startswith("_") or name in cls._settings():
            object.__setattr__(self, name, value)
            return
        members, settings = cls._members(), cls._settings()
        member = members.get(name)
        if isinstance(member, property):
            problem = f"{name!r} is read-only.{cls._read_only_note}"
        elif member is not None:
            problem = f"{name!r} is a method, not a setting: call it."
        else:
            problem = f"{cls._what} has no setting {name!r}.{did_you_mean(name, settings or members)}"
        known = f"the settings of {cls._what}: {', '.join(settings)}" if settings else f"{cls._what} is read-only"
        raise AttributeError(f"{problem} ({known})")

    def __getattr__(self, name: str) -> Any:  # only reached when the name is not found
        if name.startswith("_"):
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        cls = type(self)
        members = cls._members()
        if name in members:  # it exists, and its getter raised AttributeError: let that one through
            return members[name].__get__(self, cls)
        raise AttributeError(f"{cls._what} has no attribute {name!r}.{did_you_mean(name, members)} "
                             f"(its members: {', '.join(sorted(members))})")
