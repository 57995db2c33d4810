"""The handle's verbs for the SaaS side's data (a part of :class:`appflow_emu.Emulator`): records
seeded into a source entity (``add_source_records``, read back with ``source_records``) and entities
added to a connector's catalog (``add_entity``). A seeded entity must be one the connector knows."""
from __future__ import annotations

from typing import Any, Dict, Iterable, List, Mapping, Optional, Tuple, Union

from appflow_emu.backend.notifications import deliver
from appflow_emu.backend.runs import run_event_flows
from appflow_emu.backend.runtime import RegionState, Runtime, current_account_id
from appflow_emu.catalog.connectors import normalize_connector_type
from appflow_emu.catalog.entities import (
    Entity,
    FieldSpec,
    custom_entity_convention,
    fields_from_user,
    follows_custom_convention,
    has_closed_catalog,
)
from appflow_emu.handle.arguments import (
    did_you_mean,
    flag_arg,
    optional_text_arg,
    place_args,
    records_arg,
    text_arg,
)
from appflow_emu.model.errors import listing
from appflow_emu.simulator.dataplane import Scope

Record = Dict[str, Any]


class SourceDataVerbs:
    """Seeded SaaS records and added catalog entities."""

    __slots__ = ()
    _runtime: Runtime

    def _data_scope(self, connector_type: str, profile: Optional[str], region: Optional[str],
                    account_id: Optional[str]) -> Tuple[Optional[Scope], List[RegionState]]:
        raise NotImplementedError  # the Emulator's: it resolves profiles

    def add_source_records(self, connector_type: str, entity: str, records: Iterable[Mapping[str, Any]],
                           profile: Optional[str] = None, check_fields: bool = True, *,
                           region: Optional[str] = None, account_id: Optional[str] = None) -> None:
        """Seed records a SaaS source entity returns; active Event-triggered flows on it run.

        Without ``profile``/``region`` the records are the SaaS's own, seen from every account and
        region; with ``region=`` (and ``account_id=``), from that account and region only; with
        ``profile=``, through that connector profile only. The entity must be known: catalogued,
        added with ``add_entity``, or named as the SaaS names its custom objects (Salesforce
        ``Invoice__c``...); connectors without a fixed catalog (S3, custom connectors, SAP OData,
        connectors with no catalog) take any name. A known entity's records must have only its
        fields. Else ValueError naming the closest entity or the unknown fields, and nothing is
        seeded; ``check_fields=False`` skips both checks."""
        ct = normalize_connector_type(text_arg("connector_type", connector_type))
        entity = text_arg("entity", entity)
        rows = records_arg(records)
        check_fields = flag_arg("check_fields", check_fields)
        scope, states = self._data_scope(ct, profile, region, account_id)
        if check_fields:
            self._check_fields(ct, self._known_entity(ct, entity, scope, seeding=True), rows)
        self._runtime.data.seed(ct, entity, rows, scope)
        seeded = self._runtime.data.dataset(ct, entity, scope)
        now = self._runtime.now()
        for state in states:
            with state.lock:
                run_event_flows(self._runtime, state, ct, entity, seeded, rows, now)
            deliver(self._runtime, state)

    def _known_entity(self, connector_type: str, entity: str, scope: Optional[Scope], seeding: bool) -> Optional[Entity]:
        """The entity as the catalog (and ``add_entity``) knows it from ``scope``; None for a name
        the catalog may not list (custom objects, connectors without a fixed catalog, a dataset
        that exists). A name that is none of these is a ValueError naming the closest entity."""
        runtime = self._runtime
        with runtime.lock:
            known = runtime.entities(connector_type, scope[:2] if scope is not None else None)
            if scope is None:  # the SaaS's own records: seen wherever an entity was added
                added = {name for by_type in runtime.added_entities.values()
                         for name in by_type.get(connector_type, {})}
            else:
                added = set()
        found = known.get(entity)
        if (found is not None or entity in added or not has_closed_catalog(connector_type)
                or follows_custom_convention(connector_type, entity)):
            return found
        if not seeding:
            with runtime.data.lock:
                if any(key[:2] == (connector_type, entity) for key in runtime.data.contents()["datasets"]):
                    return None  # a flow wrote it, or read it: the data plane has it
        convention = custom_entity_convention(connector_type)
        names = set(known) | added
        raise ValueError(
            f"{connector_type} has no entity {entity!r}.{did_you_mean(entity, names)} Its entities: "
            f"{listing(names)}{f'; {convention}' if convention else ''}. To use another, add it first with "
            f"emu.add_entity({connector_type!r}, {entity!r}, fields=[...])"
            + (", or pass check_fields=False to seed it unchecked; nothing was seeded." if seeding else ".")
        )

    @staticmethod
    def _check_fields(connector_type: str, known: Optional[Entity], records: List[Record]) -> None:
        if known is None:
            return
        allowed = known.field_names
        for n, record in enumerate(records):
            if not allowed.issuperset(record):
                unknown = sorted(str(k) for k in record if k not in allowed)
                raise ValueError(
                    f"record {n} for {connector_type} entity {known.name!r} has field(s) "
                    f"{', '.join(map(repr, unknown))} that the entity does not have (its fields: "
                    f"{', '.join(sorted(allowed))}). Add them with emu.add_entity({connector_type!r}, "
                    f"{known.name!r}, fields=...), or pass check_fields=False."
                )

    def source_records(self, connector_type: str, entity: str, profile: Optional[str] = None, *,
                       region: Optional[str] = None, account_id: Optional[str] = None) -> List[Record]:
        """The entity's current records, as a source reading with these arguments sees them
        (after any SaaS destination wrote). An entity the catalog does not know (see
        :meth:`add_source_records`) and no flow wrote is a ValueError naming the closest one."""
        ct = normalize_connector_type(text_arg("connector_type", connector_type))
        entity = text_arg("entity", entity)
        scope, _ = self._data_scope(ct, profile, region, account_id)
        self._known_entity(ct, entity, scope, seeding=False)
        data = self._runtime.data
        with data.lock:
            return [dict(r) for r in data.dataset(ct, entity, scope)]

    def add_entity(self, connector_type: str, entity: str, fields: Union[Iterable[FieldSpec], Mapping[str, str]],
                   group: Optional[str] = None, label: Optional[str] = None, parent: Optional[str] = None, *,
                   region: Optional[str] = None, account_id: Optional[str] = None) -> None:
        """Add an entity to a SaaS connector's catalog, or replace a catalogued one (its fields,
        and its group/label/parent when given). ``fields``: a list of names (string fields) or of
        dicts ``{"name": "Amount", "type": "double", "primary_key": False, "timestamp": False,
        "read_only": False, "values": [...], "label": ..., "nullable": True}`` (``identifier``,
        ``fieldType``, ``isPrimaryKey``... are accepted too), or a ``{name: type}`` dict.
        ``parent`` makes it a nested entity, listed with ``entitiesPath=parent`` (name it
        ``parent/child`` as AppFlow does). Seen in every account and region, or with ``region=``
        (and ``account_id=``) in that one only; ``reset()`` forgets it."""
        ct = normalize_connector_type(text_arg("connector_type", connector_type))
        if ct in ("S3", "CustomConnector"):
            raise ValueError(f"{ct} entities are not catalogued: "
                             + ("put objects in the bucket instead" if ct == "S3"
                                else "they come from the custom connector's implementation"))
        if not isinstance(entity, str) or not entity or any(c.isspace() for c in entity):
            raise ValueError(f"entity name {entity!r} must be non-empty without whitespace")
        group, label, parent = (optional_text_arg(n, v) for n, v in (("group", group), ("label", label),
                                                                       ("parent", parent)))
        region, account_id = place_args(region, account_id)
        if account_id is not None and region is None:
            raise ValueError("account_id= needs region=: an entity is added for one account and region, "
                             "or (without both) for every account and region")
        scope = (account_id or current_account_id(), region) if region is not None else None
        specs = fields_from_user(fields)
        runtime = self._runtime
        with runtime.lock:
            known = runtime.entities(ct, scope)
            old = known.get(entity)
            default_group = next(iter(known.values())).group if known else "Objects"
            runtime.added_entities.setdefault(scope, {}).setdefault(ct, {})[entity] = Entity(
                name=entity,
                label=label or (old.label if old else entity),
                group=group or (old.group if old else default_group),
                fields=specs,
                parent=parent if parent is not None else (old.parent if old else None),
                nested=old.nested if old else False,
            )
