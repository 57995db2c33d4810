"""The handler table, and the form of a handler's answer.

A resource family's module registers its handlers with ``@handles("CreateFlow")``; dispatch looks
them up in ``HANDLERS``. A handler takes the :class:`~appflow_emu.backend.runtime.Call` and the
request's parameters and returns the response as a plain dict shaped like the output, which
dispatch encodes with :func:`encode_answer`.
"""
from __future__ import annotations

import json
import json.encoder
from typing import Any, Callable, Dict, Iterable, Tuple

Handler = Callable[[Any, Dict[str, Any]], Dict[str, Any]]
HANDLERS: Dict[str, Handler] = {}


def handles(operation: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        HANDLERS[operation] = fn
        return fn

    return register


# -- encoding answers -------------------------------------------------------------------------------

def _compact_encoder() -> Callable[[Any], str]:
    """``JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode`` with the C
    encoder built once, not per call (the stdlib builds it in every ``encode``: most of the cost
    of a small answer). Falls back to the stdlib's where the C encoder is missing."""
    stdlib = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # pragma: no cover - CPython has it
        return stdlib
    encoder = make(None, None, json.encoder.encode_basestring, None, ":", ",", False, False, False)

    def encode(value: Any) -> str:
        return "".join(encoder(value, 0))

    sample = {"a": [1, 2.5, "\u00e9\n", None, True], "b": {}}
    return encode if encode(sample) == stdlib(sample) else stdlib


encode_json = _compact_encoder()


class PartlyEncoded(dict):  # type: ignore[type-arg]
    """An answer some of whose members' JSON text is known already (a flow's definition, which
    changes only with UpdateFlow, is encoded once, not on every describe). It is a complete,
    ordinary dict; ``encoded`` and ``text`` are a hint :func:`encode_answer` splices in."""

    __slots__ = ("encoded", "text")

    def __init__(self, members: Dict[str, Any], encoded: Iterable[str], text: str) -> None:
        super().__init__(members)
        self.encoded = frozenset(encoded)  # the members ``text`` holds
        self.text = text  # those members as JSON object members: '"a":1,"b":{...}'


def encoded_once(cache: Dict[str, Tuple[Tuple[Any, ...], str]], name: str, parts: Tuple[Any, ...],
                 encode: Callable[[], str]) -> str:
    """JSON text encoded once per version of ``parts``: ``encode()`` runs again only when one of
    them is another object than last time. Sound because the parts are replaced when they change,
    never changed in place (see backend/resources.py)."""
    hit = cache.get(name)
    if hit is not None and len(hit[0]) == len(parts) and all(a is b for a, b in zip(hit[0], parts)):
        return hit[1]
    text = encode()
    cache[name] = (parts, text)
    return text


def members_text(members: Dict[str, Any]) -> str:
    """The members of a dict as JSON object members (the object's text without its braces)."""
    return encode_json(members)[1:-1]


def encode_answer(answer: Dict[str, Any]) -> str:
    """An answer's JSON text (compact, field order kept; NaN is an error: answers never hold one)."""
    if type(answer) is not PartlyEncoded or not answer.text:
        return encode_json(answer)
    rest = encode_json({k: v for k, v in answer.items() if k not in answer.encoded})
    return rest[:-1] + ("," if len(rest) > 2 else "") + answer.text + "}"
