"""Where AppFlow exists: the regions the installed botocore's endpoint data lists for the service.

botocore's ``endpoints.json`` names, per partition (``aws``, ``aws-cn``, ``aws-us-gov``, ...), the
endpoints of each service. Modern botocore resolves a client's endpoint with rules that build a
host name for any region (``appflow.us-east-9.amazonaws.com``), so the rules cannot say where the
service exists; the service's entry in ``endpoints.json`` can, and every botocore since 1.20 ships
one. A client of a region without an entry sends to a host that does not resolve.

An entry whose ``credentialScope`` names another region is an alias of that region (botocore 1.43
lists ``fips-us-east-1`` for ``us-east-1``): a client configured with it reaches that region.

Read once per process, on the first call (about 15 ms: the file covers every service); every call
looks its region up in the result (a dictionary look-up).
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any, Dict, FrozenSet, Iterable, Optional

import botocore.loaders
from botocore.exceptions import InvalidRegionError
from botocore.utils import validate_region_name

from appflow_emu.model.service import SERVICE_NAME


@lru_cache(maxsize=None)
def appflow_endpoints() -> Dict[str, str]:
    """Endpoint name -> the region it serves, for every AppFlow endpoint in the installed
    botocore's ``endpoints.json``, across partitions."""
    data: Dict[str, Any] = botocore.loaders.create_loader().load_data("endpoints")
    served: Dict[str, str] = {}
    for partition in data.get("partitions") or ():
        service = (partition.get("services") or {}).get(SERVICE_NAME) or {}
        for name, endpoint in (service.get("endpoints") or {}).items():
            scope = (endpoint or {}).get("credentialScope") or {}
            served[name] = scope.get("region") or name
    return served


def appflow_region(name: str) -> Optional[str]:
    """The AppFlow region a client configured with ``name`` reaches: ``name`` itself, the region
    an alias stands for, or None where the installed botocore lists no AppFlow endpoint."""
    return appflow_endpoints().get(name)


def is_appflow_region(name: str) -> bool:
    """Whether AppFlow exists in ``name`` according to the installed botocore."""
    return name in appflow_endpoints()


def region_names(value: Any, what: str) -> FrozenSet[str]:
    """``value``, a collection of region names, as a set; each must be a name a botocore client
    accepts (botocore's own check: a host label). A TypeError or ValueError says what is expected."""
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise TypeError(f"{what} takes a collection of region names, e.g. ['us-east-9'], got {value!r:.80}")
    names = []
    for name in value:
        if not isinstance(name, str):
            raise TypeError(f"{what} takes region names (strings), got {type(name).__name__}: {name!r:.80}")
        names.append(region_name(name, what))
    return frozenset(names)


def region_name(name: Any, what: str) -> str:
    """``name`` if it is a region name a botocore client accepts (botocore's own check: a host
    label); else a TypeError (not a string) or ValueError saying what is expected."""
    if not isinstance(name, str):
        raise TypeError(f"{what} must be a region name (a string), got {type(name).__name__}: {name!r:.80}")
    try:
        if not name:
            raise InvalidRegionError(region_name=name)
        validate_region_name(name)
    except InvalidRegionError:
        raise ValueError(f"{what}: {name!r:.80} is not a region name a botocore client accepts "
                         "(letters, digits and '-', as in 'us-east-9')") from None
    return name
