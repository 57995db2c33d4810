"""Environment variables, read cheaply: every mock start reads the AWS credential variables and
``APPFLOW_EMU_STRICT``, and every call reads ``MOTO_ACCOUNT_ID``. ``os.environ.get`` of a name that
is not set costs about 0.6 us (encode the name, look it up, raise and catch a KeyError); CPython's
``os.environ`` keeps a dictionary keyed by encoded names, read directly here, falling back to
``os.environ.get`` when that dictionary is not there or ``os.environ`` was replaced."""
from __future__ import annotations

import os
from typing import Any, Dict, Optional

_ENVIRON = os.environ
_DATA: Optional[Dict[Any, Any]] = getattr(_ENVIRON, "_data", None)
_KEYS: Dict[str, Any] = {}  # name -> its encoded key


def getenv(name: str) -> Optional[str]:
    """``os.environ.get(name)``."""
    if _DATA is None or os.environ is not _ENVIRON:
        return os.environ.get(name)
    key = _KEYS.get(name)
    if key is None:
        key = _KEYS[name] = _ENVIRON.encodekey(name)  # type: ignore[attr-defined]
    raw = _DATA.get(key)
    return None if raw is None else _ENVIRON.decodevalue(raw)  # type: ignore[attr-defined]
