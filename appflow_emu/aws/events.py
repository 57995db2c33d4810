"""EventBridge, AppFlow's neighbour for flow notifications: one port (:class:`EventBus`, putting
events on the account's default event bus) and its two variants.

On AWS, AppFlow publishes its flow notifications (``source`` ``aws.appflow``) to the default event
bus of the flow's account and region, where the user's rules match them and fire their targets.
The port takes the events as a rule's target receives them (full envelopes: ``version``, ``id``,
``detail-type``, ``source``, ``account``, ``time``, ``region``, ``resources``, ``detail``) and puts
them with ``PutEvents``, so that the user's rules, their patterns and their targets work as on AWS:

- :class:`MotoEvents`: moto's EventBridge (that account's default bus) while ``moto.mock_aws`` is
  active; a rule's SQS queue or log group receives the notifications;
- :class:`EndpointEvents`: the EventBridge at an endpoint URL (a ``moto_server``, LocalStack).

There is no embedded variant: the emulator keeps its own record of every notification (in its
region state), whether or not an EventBridge receives them. ``PutEvents`` takes at most
:data:`MAX_ENTRIES` entries per call: longer lists go in several calls. What EventBridge refuses
(an entry it rejects, the endpoint down) raises :class:`EventsUnavailable`.
"""
from __future__ import annotations

import datetime as dt
import json
from typing import Any, Dict, List, Mapping, Optional, Protocol, Sequence, runtime_checkable

from botocore.exceptions import BotoCoreError, ClientError

from appflow_emu.aws import moto

MAX_ENTRIES = 10  # [doc] PutEvents: "Entries ... Maximum number of 10 items"


class EventsUnavailable(moto.NeighbourRefused):
    """PutEvents failed (an entry refused, the endpoint down...): the message says why. The
    neighbours' one refusal (``aws/moto.py``), its text the port's own."""

    def __init__(self, message: str, code: str = "") -> None:
        super().__init__("EventBridge", "PutEvents", code, message)
        self.args = (message,)

    def __str__(self) -> str:
        return self.message


@runtime_checkable
class EventBus(Protocol):
    """The slice of EventBridge AppFlow needs: putting events on one account and region's default
    bus. ``envelopes`` are events as a rule's target receives them."""

    def put(self, envelopes: Sequence[Mapping[str, Any]]) -> List[Optional[str]]:
        """The ``id`` EventBridge gave each event (None where it said none); EventsUnavailable on
        failure."""
        ...


def parse_time(text: str) -> dt.datetime:
    """An envelope's ``time`` (``2023-08-29T12:55:32Z``, any ISO 8601 form) as an aware UTC
    datetime; a time without an offset is UTC."""
    stamp = text.strip()
    if stamp.endswith(("Z", "z")):
        stamp = stamp[:-1] + "+00:00"  # fromisoformat reads "Z" only from Python 3.11 on
    when = dt.datetime.fromisoformat(stamp)
    if when.tzinfo is None:
        return when.replace(tzinfo=dt.timezone.utc)
    return when.astimezone(dt.timezone.utc)


def put_events_entry(envelope: Mapping[str, Any]) -> Dict[str, Any]:
    """The ``PutEventsRequestEntry`` that makes EventBridge deliver ``envelope`` to a rule's targets
    (on the default bus: no ``EventBusName``). EventBridge gives the event its own ``id``; the
    ``account`` and ``region`` are the caller's."""
    entry: Dict[str, Any] = {
        "Source": envelope.get("source", ""),
        "DetailType": envelope.get("detail-type", ""),
        "Detail": json.dumps(envelope.get("detail", {})),
        "Resources": list(envelope.get("resources") or ()),
    }
    if envelope.get("time"):
        entry["Time"] = parse_time(str(envelope["time"]))
    return entry


class MotoEvents:
    """moto's EventBridge in one account and region (or the one at ``endpoint_url``): the events go
    on that account's default bus."""

    def __init__(self, account_id: str, region: str, endpoint_url: Optional[str] = None) -> None:
        self.account_id, self.region, self.endpoint_url = account_id, region, endpoint_url

    @property
    def _client(self) -> Any:
        return moto.client("events", self.account_id, self.region, self.endpoint_url)

    def put(self, envelopes: Sequence[Mapping[str, Any]]) -> List[Optional[str]]:
        """Put every envelope, :data:`MAX_ENTRIES` per call, and return the ``id`` EventBridge gave
        each (the one its rules' targets receive). Entries EventBridge refuses do not stop the
        others (PutEvents is not atomic): once all are sent, the first refusal raises. A failed call
        (an error answer, the endpoint unreachable) raises at once."""
        entries = [put_events_entry(envelope) for envelope in envelopes]
        refused: List[Dict[str, Any]] = []
        ids: List[Optional[str]] = []
        for start in range(0, len(entries), MAX_ENTRIES):
            batch = entries[start:start + MAX_ENTRIES]
            try:
                answer = self._client.put_events(Entries=batch)
            except (ClientError, BotoCoreError) as e:
                raise EventsUnavailable(f"PutEvents failed: {e}", moto.error_code(e) or type(e).__name__) from e
            given = [entry.get("EventId") for entry in answer.get("Entries", ())]
            ids.extend((given + [None] * len(batch))[:len(batch)])
            if answer.get("FailedEntryCount"):
                refused.extend(e for e in answer.get("Entries", ()) if e.get("ErrorCode"))
                if not refused:  # a count without the entries that failed
                    refused.append({"ErrorCode": "Unknown", "ErrorMessage": "no entry said why"})
        if refused:
            first = refused[0]
            raise EventsUnavailable(
                f"PutEvents refused {len(refused)} of {len(entries)} events, the first with "
                f"{first.get('ErrorCode')}: {first.get('ErrorMessage')}", str(first.get("ErrorCode") or ""))
        return ids

    def __repr__(self) -> str:
        where = f" {self.endpoint_url}" if self.endpoint_url else ""
        return f"<{type(self).__name__}{where} {self.account_id}/{self.region}>"


class EndpointEvents(MotoEvents):
    """The EventBridge at an endpoint URL (a ``moto_server``, LocalStack...)."""

    def __init__(self, account_id: str, region: str, endpoint_url: str) -> None:
        super().__init__(account_id, region, endpoint_url)
