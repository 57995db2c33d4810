"""Drop response members the installed model does not have.

Handlers answer in the shape of the newest model; with an older botocore (1.20's AppFlow model
has no ``schemaVersion``, no connector labels, a much smaller ``ConnectorConfiguration``, ...)
the answer must carry only what that model defines, as the service of that time did. A pruner is
compiled once per output shape; it returns its input untouched (no copy) when nothing is unknown,
so with a current botocore it costs a walk and no allocation.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any, Callable, Dict, Optional

from botocore.model import Shape

Prune = Callable[[Any], Any]


def _identity(value: Any) -> Any:
    return value


class _Compiler:
    def __init__(self) -> None:
        self._cache: Dict[str, Optional[Prune]] = {}

    def compile(self, shape: Shape) -> Optional[Prune]:
        """A pruner, or None when the shape holds no structure (nothing to prune)."""
        if shape.name in self._cache:
            return self._cache[shape.name]
        holder: list = []
        self._cache[shape.name] = lambda v: holder[0](v)  # recursive shapes
        built = self._build(shape)
        self._cache[shape.name] = built
        holder.append(built or _identity)
        return built

    def _build(self, shape: Shape) -> Optional[Prune]:
        t = shape.type_name
        if t == "structure":
            members = shape.members  # type: ignore[attr-defined]
            known = frozenset(members)
            nested = {name: p for name, s in members.items() if (p := self.compile(s)) is not None}

            def prune_structure(value: Any) -> Any:
                if type(value) is not dict:
                    return value
                out = value
                if not known.issuperset(value):
                    out = {k: v for k, v in value.items() if k in known}
                for name, prune in nested.items():
                    item = out.get(name)
                    if item is not None:
                        new = prune(item)
                        if new is not item:
                            if out is value:
                                out = dict(value)
                            out[name] = new
                return out

            return prune_structure
        if t == "list":
            item_pruner = self.compile(shape.member)  # type: ignore[attr-defined]
            if item_pruner is None:
                return None
            prune_item: Prune = item_pruner

            def prune_list(value: Any) -> Any:
                if type(value) is not list:
                    return value
                new = [prune_item(v) for v in value]
                return value if all(a is b for a, b in zip(new, value)) else new

            return prune_list
        if t == "map":
            value_pruner = self.compile(shape.value)  # type: ignore[attr-defined]
            if value_pruner is None:
                return None
            prune_value: Prune = value_pruner

            def prune_map(value: Any) -> Any:
                if type(value) is not dict:
                    return value
                new = {k: prune_value(v) for k, v in value.items()}
                return value if all(new[k] is value[k] for k in value) else new

            return prune_map
        return None


_COMPILER = _Compiler()


@lru_cache(maxsize=None)
def output_pruner(shape: Shape) -> Prune:
    return _COMPILER.compile(shape) or _identity
