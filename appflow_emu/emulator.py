"""The handle a mock yields: the test's control plane over one emulator.

Only the user's verbs live here (see :class:`Emulator`); the emulator's inside is a private
``Runtime`` (``backend/runtime.py``). Every verb that names a flow, profile or connector label
takes ``region=`` and ``account_id=``: without them, a name that exists in exactly one account and
region means that one, a name that exists in several raises :class:`AmbiguousNameError`, and a
name that exists nowhere raises :class:`NotFoundError` naming what does exist. Arguments of the
wrong kind raise ``TypeError``/``ValueError`` saying what was expected.
"""
from __future__ import annotations

import contextlib
import copy
import json
import math
import os
import tempfile
import warnings
from datetime import timedelta
from typing import (
    Any,
    Callable,
    Dict,
    FrozenSet,
    Iterable,
    List,
    Mapping,
    Optional,
    Sequence,
    Tuple,
    Union,
)

from appflow_emu.aws.environment import getenv
from appflow_emu.backend import clock, snapshots
from appflow_emu.backend.notifications import DETAIL_TYPES, deliver, matching
from appflow_emu.backend.resources import ConnectorProfile, ConnectorRegistration, Flow
from appflow_emu.backend.runtime import (
    DEFAULT_QUOTAS,
    DEFAULT_REGION,
    FlowFaults,
    RegionState,
    Runtime,
    current_account_id,
    profile_scope,
)
from appflow_emu.backend.schedules import catch_up
from appflow_emu.handle.arguments import (
    StrictAttributes,
    account_arg,
    count_arg,
    flag_arg,
    optional_text_arg,
    place_args,
    renamed,
    text_arg,
    where,
)
from appflow_emu.handle.neighbours import NeighbourVerbs
from appflow_emu.handle.source_data import SourceDataVerbs
from appflow_emu.intercept.botocore_call import BotocoreResponder
from appflow_emu.intercept.http_wire import HttpResponder
from appflow_emu.intercept.secrets_call import SecretsResponder
from appflow_emu.model.errors import AmbiguousNameError, InvalidStateError, NotFoundError, counted, listing
from appflow_emu.model.regions import region_name, region_names
from appflow_emu.simulator.custom_connectors import check_implementation
from appflow_emu.simulator.dataplane import Scope
from appflow_emu.simulator.sinks import WarehouseSink, sink_for

Record = Dict[str, Any]
RecordPredicate = Callable[[Record], Any]


class RegionView(StrictAttributes):
    """What one account holds in one region, read-only: ``flows``, ``connector_profiles`` and
    ``registered_connectors`` are live mappings from name to the emulator's record of it
    (credentials are never part of it). Setting any attribute, or reading one it does not have, is
    an AttributeError naming the closest member."""

    __slots__ = ("_state",)
    _what = "a RegionView"
    _read_only_note = " A RegionView only reads: change resources through boto3."

    def __init__(self, state: RegionState) -> None:
        self._state = state

    @property
    def account_id(self) -> str:
        return self._state.account_id

    @property
    def region(self) -> str:
        return self._state.region

    @property
    def flows(self) -> Mapping[str, Flow]:
        return self._state.flows.view()

    @property
    def connector_profiles(self) -> Mapping[str, ConnectorProfile]:
        return self._state.profiles.view()

    @property
    def registered_connectors(self) -> Mapping[str, ConnectorRegistration]:
        return self._state.registrations.view()

    def __repr__(self) -> str:
        s = self._state
        return (f"<RegionState {s.account_id}/{s.region}: {counted(len(s.profiles), 'profile')}, "
                f"{counted(len(s.flows), 'flow')}, {counted(len(s.registrations), 'registered connector')}>")


class Emulator(SourceDataVerbs, NeighbourVerbs, StrictAttributes):
    """The handle a mock yields (``with mock_appflow() as emu``, the ``appflow_mock`` fixture).

    State, read-only: ``state(region, account_id)``, ``states()``; ``reset()``; ``seed``, ``strict``.
    Source data: ``add_source_records``, ``source_records``, ``add_entity``.
    S3 objects: ``create_bucket``, ``put_object``, ``get_object``, ``list_objects``.
    Delivered results: ``destination_records``, ``warehouse_rows``, ``events``, ``lookout_records``.
    AppFlow's notifications on EventBridge: ``notifications``.
    Faults: ``fail_next_execution``, ``fail_records``, ``invalidate_credentials``,
    ``set_in_progress_polls``, ``in_progress_polls``, ``conflict_on_concurrent_start``.
    Custom connectors: ``register_lambda`` (a connector written with AWS's SDK, on the Lambda
    protocol), ``register_connector_implementation`` (a Python object, the shortcut).
    Neighbours: ``aws_endpoint``, ``s3_endpoint``, ``lambda_endpoint``, ``events_endpoint``; the Glue
    Data Catalog: ``create_glue_database``, ``glue_tables``.
    Clock: ``now``, ``advance``, ``tick``. Quotas: ``set_quota``. Identity: ``caller_arn``.
    Regions beyond those where AppFlow exists: ``extra_regions``.
    Saved state: ``snapshot``, ``restore``, ``save``, ``load``.
    Setting an attribute that is not one of its settings, or reading one it does not have, is an
    AttributeError naming the closest one. See docs/user-guide.md and docs/simulator.md.
    """

    __slots__ = ("_runtime", "_responder", "_secrets_responder")
    _what = "the handle (Emulator)"
    _read_only_note = " seed and strict are chosen when the mock starts: mock_appflow(seed=..., strict=...)."

    def __init__(self, seed: int = 0, strict: Optional[bool] = None, in_progress_polls: int = 0) -> None:
        if strict is None:
            strict = (getenv("APPFLOW_EMU_STRICT") or "") not in ("", "0", "false")
        runtime = Runtime(seed=seed, strict=bool(strict), in_progress_polls=count_arg(
            "in_progress_polls", in_progress_polls))
        # object.__setattr__: these are slots, and StrictAttributes.__setattr__ costs a call each
        # (a mock starts per test: benchmarks/bench_state.py)
        set_slot = object.__setattr__
        set_slot(self, "_runtime", runtime)
        set_slot(self, "_responder", BotocoreResponder(runtime))
        # GetSecretValue of the connector profile secrets the emulator keeps itself
        set_slot(self, "_secrets_responder", SecretsResponder(runtime.aws, runtime.new_request_id))

    def _close(self) -> None:
        """The mock or server stopped: release what the neighbours hold (code extracted from
        moto's Lambda functions)."""
        self._runtime.aws.close()

    def _http_responder(self, account_id: str) -> HttpResponder:
        """What answers AppFlow's wire protocol over HTTP for this emulator (server mode)."""
        return HttpResponder(self._runtime, account_id)

    # -- settings --------------------------------------------------------------------------
    @property
    def seed(self) -> int:
        """The seed ids (execution ids, secret suffixes, request ids) come from."""
        return self._runtime.seed

    @property
    def strict(self) -> bool:
        """Whether every response is checked against its output shape."""
        return self._runtime.strict

    @property
    def caller_arn(self) -> str:
        """The identity written to ``createdBy``/``lastUpdatedBy``; ``{account}`` is replaced."""
        return self._runtime.caller_arn

    @caller_arn.setter
    def caller_arn(self, value: str) -> None:
        self._runtime.caller_arn = text_arg("caller_arn", value)

    @property
    def in_progress_polls(self) -> int:
        """Describe polls an on-demand run stays InProgress (every flow without its own setting)."""
        return self._runtime.in_progress_polls

    @in_progress_polls.setter
    def in_progress_polls(self, value: int) -> None:
        self._runtime.in_progress_polls = count_arg("in_progress_polls", value)

    @property
    def conflict_on_concurrent_start(self) -> bool:
        """When true, start_flow during an on-demand run in progress is a ConflictException."""
        return self._runtime.conflict_on_concurrent_start

    @conflict_on_concurrent_start.setter
    def conflict_on_concurrent_start(self, value: bool) -> None:
        self._runtime.conflict_on_concurrent_start = bool(value)

    @property
    def extra_regions(self) -> FrozenSet[str]:
        """Regions where AppFlow answers although the installed botocore lists no AppFlow endpoint
        there (a region newer than your botocore, say): ``emu.extra_regions = ["us-east-9"]``.
        Elsewhere a client gets botocore's ``EndpointConnectionError``, as from AWS."""
        return self._runtime.extra_regions

    @extra_regions.setter
    def extra_regions(self, value: Iterable[str]) -> None:
        self._runtime.extra_regions = region_names(value, "extra_regions")

    def set_quota(self, name: str, value: int) -> None:
        """Lower (or raise) a quota in every account and region: ``flows``,
        ``connector_profiles`` or ``custom_connectors``."""
        if text_arg("name", name) not in DEFAULT_QUOTAS:
            raise NotFoundError(f"unknown quota {name!r}; known: {listing(DEFAULT_QUOTAS)}")
        self._runtime.quotas[name] = count_arg("value", value)

    # -- state -----------------------------------------------------------------------------
    def state(self, region: str = DEFAULT_REGION, account_id: Optional[str] = None) -> RegionView:
        """One account and region (the account defaults to ``MOTO_ACCOUNT_ID`` or 123456789012)."""
        region, account_id = region_name(region, "region"), account_arg(account_id)
        return RegionView(self._runtime.state(region, account_id or current_account_id()))

    def states(self) -> Dict[Tuple[str, str], RegionView]:
        """Every (account, region) touched so far."""
        return {(s.account_id, s.region): RegionView(s) for s in self._runtime.region_states()}

    def reset(self) -> None:
        """Forget everything: resources, data, objects, faults, quotas, the clock offset; ids
        restart from the seed."""
        self._runtime.reset()

    # -- saved state -----------------------------------------------------------------------------
    def snapshot(self) -> Dict[str, Any]:
        """Everything the emulator holds, in every account and region, as a plain JSON-serialisable
        document (docs/state.md). Connector credentials are never in it; Python objects plugged in
        (custom connector implementations, ``fail_records`` predicates) are listed under
        ``not_kept``; while moto is active, S3 objects are moto's and are not in it."""
        return snapshots.snapshot(self._runtime)

    def restore(self, document: Mapping[str, Any]) -> List[Dict[str, Any]]:
        """Replace the whole state with a :meth:`snapshot` document. A document of another format,
        a newer version, or not matching the schema raises :class:`InvalidStateError` (a
        ValueError) naming what is wrong, and nothing changes. Returns the ``not_kept`` entries
        (and warns about them): the implementations and predicates to plug in again."""
        not_kept = snapshots.restore(self._runtime, document)
        if not_kept:
            names = ", ".join(f"{n['what']} {n['name']} ({n['region']}, account {n['account_id']})" for n in not_kept)
            warnings.warn(f"the restored state had Python objects plugged in that a document cannot keep; "
                          f"plug them in again: {names}", UserWarning, stacklevel=2)
        return not_kept

    def save(self, path: Union[str, "os.PathLike[str]"]) -> None:
        """Write :meth:`snapshot` to a JSON file, atomically (the previous file stays whole until
        the new one is complete)."""
        text = json.dumps(self.snapshot(), separators=(",", ":"), allow_nan=False)
        target = os.fspath(path)
        directory = os.path.dirname(os.path.abspath(target))
        fd, temporary = tempfile.mkstemp(prefix=".appflow_emu-", suffix=".json", dir=directory)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
                f.flush()
                os.fsync(f.fileno())
            os.replace(temporary, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise

    def load(self, path: Union[str, "os.PathLike[str]"]) -> List[Dict[str, Any]]:
        """:meth:`restore` from a file :meth:`save` wrote (a file that is not JSON, truncated for
        instance, raises :class:`InvalidStateError` and changes nothing)."""
        target = os.fspath(path)
        with open(target, encoding="utf-8") as f:
            text = f.read()
        try:
            document = json.loads(text)
        except ValueError as e:
            raise InvalidStateError(f"{target} is not a JSON state document: {e}") from None
        except RecursionError:  # Python's decoder recurses; emu.save never nests near the limit
            raise InvalidStateError(f"{target} is not a state document emu.save wrote: it nests arrays and "
                                    "objects deeper than Python's JSON decoder can read") from None
        return self.restore(document)

    # -- finding what a verb names ------------------------------------------------------------
    def _matching(self, region: Optional[str], account_id: Optional[str]) -> List[RegionState]:
        region, account_id = place_args(region, account_id)
        return [s for s in self._runtime.region_states()
                if (region is None or s.region == region) and (account_id is None or s.account_id == account_id)]

    def _resolve(self, kind: str, name: Any, region: Optional[str], account_id: Optional[str],
                 names_in: Callable[[RegionState], Iterable[str]]) -> RegionState:
        """The one account and region (among those matching the filters) where ``name`` exists."""
        name = text_arg(f"the {kind} name", name)
        states = self._matching(region, account_id)
        found = [s for s in states if name in set(names_in(s))]
        if len(found) == 1:
            return found[0]
        if found:
            places = ", ".join(f"{s.region} (account {s.account_id})" for s in found)
            raise AmbiguousNameError(f"{kind} {name!r} exists in several places: {places}; "
                                     f"pass region= (and account_id=) to say which")
        several = len({(s.account_id, s.region) for s in states}) > 1
        existing = [f"{n} ({s.region})" if several else n for s in states for n in names_in(s)]
        raise NotFoundError(f"no {kind} named {name!r} {where(region, account_id)}; "
                            f"{kind}s there: {listing(existing)}")

    def _flow_state(self, flow: str, region: Optional[str], account_id: Optional[str]) -> RegionState:
        return self._resolve("flow", flow, region, account_id, lambda s: s.flows.view().keys())

    def _profile_state(self, profile: str, region: Optional[str], account_id: Optional[str]) -> RegionState:
        return self._resolve("connector profile", profile, region, account_id,
                             lambda s: s.profiles.view().keys())

    def _faults(self, flow: str, region: Optional[str], account_id: Optional[str]) -> Tuple[RegionState, FlowFaults]:
        state = self._flow_state(flow, region, account_id)
        return state, state.faults.setdefault(flow, FlowFaults())

    def _data_scope(self, connector_type: str, profile: Optional[str], region: Optional[str],
                    account_id: Optional[str]) -> Tuple[Optional[Scope], List[RegionState]]:
        """Where SaaS records seeded or read with these arguments live (see dataplane.py), and
        the region states whose flows see them."""
        region, account_id = place_args(region, account_id)
        if profile is not None:
            state = self._profile_state(profile, region, account_id)
            owner = state.profiles.get(profile)
            if owner is not None and owner.connector_type != connector_type:
                raise ValueError(f"connector profile {profile!r} is a {owner.connector_type} profile, "
                                 f"not {connector_type}")
            return profile_scope(state, profile), [state]
        if region is not None:
            account = account_id or current_account_id()
            return (account, region, None), [self._runtime.state(region, account)]
        if account_id is not None:
            raise ValueError("account_id= needs region= here: SaaS data is seen from one account and region, "
                             "or (without both) from every account and region")
        return None, self._runtime.region_states()

    # -- delivered results -----------------------------------------------------------------------
    @renamed(flow_name="flow")
    def destination_records(self, flow: str, execution_id: Optional[str] = None,
                            region: Optional[str] = None, account_id: Optional[str] = None) -> List[Record]:
        """The records a run of the flow delivered, whatever the destination (the newest run when
        no id is given; ``[]`` before any run). S3 records are read back from the objects."""
        data = self._runtime.data

        def names(state: RegionState) -> Iterable[str]:
            with data.lock:
                ran = {f for (a, r, f) in data.delivered if (a, r) == (state.account_id, state.region)}
            return ran | set(state.flows.view().keys())

        state = self._resolve("flow", flow, region, account_id, names)
        execution_id = optional_text_arg("execution_id", execution_id)
        with data.lock:
            runs = dict(data.delivered.get((state.account_id, state.region, flow)) or {})
        if execution_id is None:
            if not runs:
                return []
            execution_id = next(reversed(list(runs)))
        if execution_id not in runs:
            raise NotFoundError(f"flow {flow!r} has no execution {execution_id!r}; "
                                f"its executions: {listing(runs)}")
        delivered: Any = runs[execution_id]
        if hasattr(delivered, "records"):  # an S3-like destination: read its objects back
            return list(delivered.records())
        return [dict(r) for r in delivered]

    def warehouse_rows(self, profile: str, table: str, *, region: Optional[str] = None,
                       account_id: Optional[str] = None) -> List[Record]:
        """The rows flows loaded into a Redshift or Snowflake table through a connector profile
        (``[]`` when none were)."""
        state = self._profile_state(profile, region, account_id)
        ct = state.profiles.view()[profile].connector_type
        if not isinstance(sink_for({"connectorType": ct}), WarehouseSink):
            raise ValueError(f"connector profile {profile!r} is a {ct} profile, not a warehouse (Redshift, "
                             f"Snowflake): a SaaS destination's records are in source_records, and every "
                             f"destination's in destination_records")
        rows = self._runtime.data.table(ct, profile_scope(state, profile), text_arg("table", table))
        with self._runtime.data.lock:
            return [dict(r) for r in rows]

    def notifications(self, flow: Optional[str] = None, *, detail_type: Optional[str] = None,
                      region: Optional[str] = None, account_id: Optional[str] = None) -> List[Record]:
        """AppFlow's flow notifications, as an EventBridge rule's target receives them (full events:
        ``detail-type`` ``AppFlow Start Flow Run Report``, ``AppFlow End Flow Run Report``, ...), oldest
        first, in the accounts and regions matching the filters; ``flow`` and ``detail_type`` narrow
        them. They are kept whether or not an EventBridge took them (moto's, or one at an endpoint)."""
        if detail_type is not None and detail_type not in DETAIL_TYPES:
            raise ValueError(f"detail_type must be one of {', '.join(map(repr, DETAIL_TYPES))}, got {detail_type!r}")
        states = self._matching(region, account_id)
        if flow is not None:
            text_arg("the flow name", flow)
            known = {n["detail"].get("flow-name") for s in states for n in list(s.notifications)}
            known |= {name for s in states for name in s.flows.view().keys()}
            if flow not in known:
                raise NotFoundError(f"no flow named {flow!r} {where(region, account_id)} has notifications; "
                                    f"flows: {listing(n for n in known if n)}")
        found: List[Record] = []
        for state in states:
            with state.lock:
                found.extend(copy.deepcopy(matching(state.notifications, flow, detail_type)))
        return sorted(found, key=lambda n: n["time"]) if len(states) > 1 else found

    def events(self, *, region: Optional[str] = None, account_id: Optional[str] = None) -> List[Record]:
        """EventBridge events flows sent (``{"source", "detail-type", "detail"}``), oldest first, in
        the accounts and regions matching the filters (all of them without any)."""
        return self._delivered_lists(self._runtime.data.all_events(), region, account_id)

    def lookout_records(self, *, region: Optional[str] = None, account_id: Optional[str] = None) -> List[Record]:
        """Records flows sent to Lookout for Metrics, like :meth:`events`."""
        return self._delivered_lists(self._runtime.data.all_lookout(), region, account_id)

    @staticmethod
    def _delivered_lists(by_region: Mapping[Tuple[str, str], Sequence[Record]], region: Optional[str],
                         account_id: Optional[str]) -> List[Record]:
        region, account_id = place_args(region, account_id)
        return [dict(r) for (a, rg), items in by_region.items()
                if (region is None or rg == region) and (account_id is None or a == account_id) for r in items]

    # -- faults ----------------------------------------------------------------------------------
    def fail_next_execution(self, flow: str, message: str = "The flow run failed.", *,
                            region: Optional[str] = None, account_id: Optional[str] = None) -> None:
        """The flow's next run ends in Error with this executionMessage (armed once per call)."""
        message = text_arg("message", message)
        state, faults = self._faults(flow, region, account_id)
        with state.lock:
            faults.failures.append(message)

    def fail_records(self, flow: str, predicate: Optional[RecordPredicate], *,
                     region: Optional[str] = None, account_id: Optional[str] = None) -> None:
        """Records of this flow for which ``predicate(record)`` is true (or a message) fail to
        write; ``None`` removes the rule. An exception in the predicate ends the run in Error with
        a message naming the predicate."""
        if predicate is not None and not callable(predicate):
            raise TypeError(f"predicate must be a function of a record, or None, got {predicate!r}")
        state, faults = self._faults(flow, region, account_id)
        with state.lock:
            faults.record_predicate = predicate

    def set_in_progress_polls(self, flow: str, polls: int, *, region: Optional[str] = None,
                              account_id: Optional[str] = None) -> None:
        """Describe polls an on-demand run of this flow stays InProgress."""
        polls = count_arg("polls", polls)
        state, faults = self._faults(flow, region, account_id)
        with state.lock:
            faults.polls = polls

    def invalidate_credentials(self, profile: str, invalid: bool = True, *, region: Optional[str] = None,
                               account_id: Optional[str] = None) -> None:
        """The connector now rejects this profile's credentials (or accepts them again with
        ``invalid=False``): AppFlow answers ConnectorAuthenticationException where it checks
        them, and runs through the profile fail."""
        invalid = flag_arg("invalid", invalid)
        state = self._profile_state(profile, region, account_id)
        with state.lock:
            if invalid:
                state.rejected_credentials.add(profile)
            else:
                state.rejected_credentials.discard(profile)

    # -- custom connectors ----------------------------------------------------------------------------
    def register_connector_implementation(self, label: str, implementation: Any, *, region: Optional[str] = None,
                                          account_id: Optional[str] = None) -> None:
        """Plug a Python object in as the custom connector ``label`` (registered with
        RegisterConnector): flows through CustomConnector profiles of that label read with its
        ``read_records`` and write with its ``write_records``; ListConnectorEntities and
        DescribeConnectorEntity ask its ``list_entities`` / ``describe_entity``. See
        :class:`appflow_emu.CustomConnectorImplementation` and :class:`appflow_emu.InMemoryConnector`.
        ``None`` unplugs it; without one the label reads and writes the ``CustomConnector``
        datasets. Unregistering the connector unplugs it too."""
        label = text_arg("the connector label", label)
        if implementation is not None:
            check_implementation(implementation)
        state = self._resolve("registered connector", label, region, account_id,
                              lambda s: s.registrations.view().keys())
        with state.lock:
            if implementation is None:
                state.connector_implementations.pop(label, None)
            else:
                state.connector_implementations[label] = implementation

    # -- clock ------------------------------------------------------------------------------------------
    def now(self) -> float:
        """The emulator's clock, epoch seconds: the process clock (freezegun and time-machine move
        it) plus what :meth:`advance` added."""
        return self._runtime.now()

    def advance(self, delta: Union[timedelta, float]) -> None:
        """Move the emulator's clock forward; scheduled runs whose ticks are passed run now. The
        clock stays before 3000-01-01T00:00:00Z: a delta that would move it further is a ValueError."""
        if isinstance(delta, timedelta):
            seconds: Union[int, float] = delta.total_seconds()
        elif isinstance(delta, (int, float)) and not isinstance(delta, bool):
            seconds = delta
        else:
            raise TypeError(f"delta must be a timedelta or seconds, got {delta!r:.80}")
        if isinstance(seconds, float) and not math.isfinite(seconds):
            raise ValueError(f"delta must be a finite duration, got {delta!r}")
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        runtime = self._runtime
        with runtime.lock:
            runtime.clock_offset = clock.checked_offset(seconds, f"advance(delta={delta!r:.80})", runtime.clock_offset)
        self.tick()

    def tick(self) -> None:
        """Run the scheduled runs the clock has made due, in every account and region (done anyway
        on every AppFlow call)."""
        now = self._runtime.now()
        for state in self._runtime.region_states():
            with state.lock:
                catch_up(self._runtime, state, now)
            deliver(self._runtime, state)

    def __repr__(self) -> str:
        return f"<appflow_emu.Emulator seed={self.seed} states={sorted(self._runtime.states)}>"
