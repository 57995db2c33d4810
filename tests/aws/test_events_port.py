"""aws/events.py: the envelopes MotoEvents and EndpointEvents put reach a rule's SQS target as
EventBridge delivers them (detail, time, resources), in chunks of at most ten; what EventBridge
refuses raises EventsUnavailable."""
from __future__ import annotations

import datetime as dt
import functools
import json
from typing import Any, Dict, List

import boto3
import pytest

from appflow_emu.aws.events import (
    MAX_ENTRIES,
    EndpointEvents,
    EventBus,
    EventsUnavailable,
    MotoEvents,
    parse_time,
    put_events_entry,
)

moto = pytest.importorskip("moto")

ACCOUNT = "123456789012"
REGION = "us-east-1"
END = "AppFlow End Flow Run Report"
START = "AppFlow Start Flow Run Report"


@pytest.fixture(autouse=True)
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_PROFILE", raising=False)


@pytest.fixture(autouse=True)
def fast_jsonpath(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto renders each event for each target through its default input template, parsing eight
    JSONPath expressions with a freshly built PLY parser (~0.1 s an event): the parsed expressions
    are the same every time, so parse each once."""
    ext = pytest.importorskip("jsonpath_ng.ext")
    monkeypatch.setattr(ext, "parse", functools.lru_cache(maxsize=None)(ext.parse))


def envelope(n: int, detail_type: str = END, status: str = "Execution Successful") -> Dict[str, Any]:
    return {
        "version": "0", "id": f"00000000-0000-0000-0000-{n:012d}", "detail-type": detail_type,
        "source": "aws.appflow", "account": ACCOUNT, "time": f"2023-08-29T12:{n // 60:02d}:{n % 60:02d}Z",
        "region": REGION, "resources": [f"{n:032x}"],
        "detail": {"flow-name": f"flow-{n}", "status": status, "num-of-records-processed": str(n),
                   "nested": {"list": [1, "two", None]}},
    }


def rule_to_queue(events: Any, sqs: Any, name: str, pattern: Dict[str, Any]) -> str:
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name=name, EventPattern=json.dumps(pattern))
    events.put_targets(Rule=name, Targets=[{"Id": "q", "Arn": arn}])
    return url


def received(sqs: Any, url: str) -> List[Dict[str, Any]]:
    bodies: List[Dict[str, Any]] = []
    while True:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            return bodies
        for message in messages:
            bodies.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def test_the_entry_put_for_an_envelope() -> None:
    entry = put_events_entry(envelope(7))
    assert entry == {"Source": "aws.appflow", "DetailType": END, "Detail": json.dumps(envelope(7)["detail"]),
                     "Resources": [f"{7:032x}"],
                     "Time": dt.datetime(2023, 8, 29, 12, 0, 7, tzinfo=dt.timezone.utc)}
    assert "EventBusName" not in entry  # the default bus
    assert parse_time("2023-08-29T14:55:32+02:00") == dt.datetime(2023, 8, 29, 12, 55, 32, tzinfo=dt.timezone.utc)
    assert parse_time("2023-08-29T12:55:32.835") == dt.datetime(2023, 8, 29, 12, 55, 32, 835000,
                                                                 tzinfo=dt.timezone.utc)


def test_a_rule_target_receives_what_moto_events_puts_in_chunks_of_ten() -> None:
    with moto.mock_aws():
        events, sqs = boto3.client("events", region_name=REGION), boto3.client("sqs", region_name=REGION)
        url = rule_to_queue(events, sqs, "appflow-runs", {"source": ["aws.appflow"], "detail-type": [END, START]})
        bus = MotoEvents(ACCOUNT, REGION)
        assert isinstance(bus, EventBus)
        calls: List[int] = []
        client = bus._client
        original = client.put_events

        def counting(**kwargs: Any) -> Any:
            calls.append(len(kwargs["Entries"]))
            return original(**kwargs)

        client.put_events = counting
        try:
            sent = [envelope(n, START if n % 2 else END) for n in range(23)]
            bus.put(sent)
        finally:
            del client.put_events
        assert calls == [MAX_ENTRIES, MAX_ENTRIES, 3]
        bodies = sorted(received(sqs, url), key=lambda b: b["detail"]["flow-name"])
    expected = sorted(sent, key=lambda e: e["detail"]["flow-name"])
    assert len(bodies) == 23
    for body, sent_one in zip(bodies, expected):
        assert body["source"] == "aws.appflow"
        assert body["detail-type"] == sent_one["detail-type"]
        assert body["detail"] == sent_one["detail"]
        assert body["time"] == sent_one["time"]
        assert body["resources"] == sent_one["resources"]
        assert body["region"] == REGION  # moto's rendering leaves "account" out (EventBridge has it)


def test_an_anything_but_pattern_on_the_status_filters() -> None:
    with moto.mock_aws():
        events, sqs = boto3.client("events", region_name=REGION), boto3.client("sqs", region_name=REGION)
        failures = rule_to_queue(events, sqs, "failed-runs", {
            "source": ["aws.appflow"], "detail-type": [END],
            "detail": {"status": [{"anything-but": "Execution Successful"}]}})
        others = rule_to_queue(events, sqs, "other-source", {"source": ["aws.s3"]})
        MotoEvents(ACCOUNT, REGION).put([envelope(1), envelope(2, status="Execution Failed"), envelope(3),
                                         envelope(4, START, status="Execution Failed")])
        assert [b["detail"]["flow-name"] for b in received(sqs, failures)] == ["flow-2"]
        assert received(sqs, others) == []


def test_an_entry_eventbridge_refuses_raises_after_the_others_are_put() -> None:
    with moto.mock_aws():
        events, sqs = boto3.client("events", region_name=REGION), boto3.client("sqs", region_name=REGION)
        url = rule_to_queue(events, sqs, "all", {"source": ["aws.appflow"]})
        refused = dict(envelope(2), source="")  # moto: "Parameter Source is not valid"
        with pytest.raises(EventsUnavailable, match=r"refused 1 of 12 events.*InvalidArgument: Parameter Source"):
            MotoEvents(ACCOUNT, REGION).put([envelope(1), refused, *(envelope(n) for n in range(3, 13))])
        assert len(received(sqs, url)) == 11


class StubClient:
    def __init__(self, answer: Any) -> None:
        self.answer = answer

    def put_events(self, **kwargs: Any) -> Any:
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


def test_a_failed_call_or_a_failure_count_raises_events_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    from botocore.exceptions import ClientError, EndpointConnectionError

    stub = StubClient(ClientError({"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, "PutEvents"))
    monkeypatch.setattr(MotoEvents, "_client", property(lambda self: stub))
    bus = MotoEvents(ACCOUNT, REGION)
    with pytest.raises(EventsUnavailable, match="ThrottlingException"):
        bus.put([envelope(1)])
    stub.answer = {"FailedEntryCount": 1, "Entries": [{"ErrorCode": "InternalFailure", "ErrorMessage": "boom"}]}
    with pytest.raises(EventsUnavailable, match="InternalFailure: boom"):
        bus.put([envelope(1)])
    stub.answer = {"FailedEntryCount": 1, "Entries": [{"EventId": "1"}]}  # a count, no entry saying why
    with pytest.raises(EventsUnavailable, match="refused 1 of 1"):
        bus.put([envelope(1)])
    stub.answer = EndpointConnectionError(endpoint_url="http://127.0.0.1:9")  # the endpoint down
    with pytest.raises(EventsUnavailable, match="PutEvents failed: Could not connect"):
        EndpointEvents(ACCOUNT, REGION, "http://127.0.0.1:9").put([envelope(1)])
    stub.answer = {"FailedEntryCount": 0, "Entries": [{"EventId": "1"}]}
    bus.put([envelope(1)])
    bus.put([])


def test_endpoint_events_puts_on_a_moto_server(moto_endpoint: str) -> None:
    session = boto3.session.Session(region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing")
    events = session.client("events", endpoint_url=moto_endpoint)
    sqs = session.client("sqs", endpoint_url=moto_endpoint)
    url = rule_to_queue(events, sqs, "endpoint-runs", {"source": ["aws.appflow"], "detail-type": [END]})
    bus = EndpointEvents(ACCOUNT, REGION, moto_endpoint)
    assert moto_endpoint in repr(bus)
    bus.put([envelope(n) for n in range(12)])
    bodies = received(sqs, url)
    assert sorted(b["detail"]["flow-name"] for b in bodies) == sorted(f"flow-{n}" for n in range(12))
    assert {b["time"] for b in bodies} == {envelope(n)["time"] for n in range(12)}
