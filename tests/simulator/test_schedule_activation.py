"""The rule at activation, as ``backend/schedule_expressions.py``'s module docstring writes it once:
a cron schedule runs at each UTC minute its fields match, from the anchor on, at the anchor itself
only when the anchor falls exactly on such a minute; a rate schedule runs at the anchor and every
period after it. The anchor is the activation, or a later ``scheduleStartTime``.

Through boto3 under a frozen clock (freezegun and time-machine alike): the ``startedAt`` of every
execution record is checked.
"""
from __future__ import annotations

import contextlib
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Iterator, List

import boto3
import pytest
import time_machine
from freezegun import freeze_time

from appflow_emu import mock_appflow
from appflow_emu.backend import schedule_expressions
from tests.helpers import flow_request

NOON = datetime(2024, 6, 3, 12, 0, tzinfo=timezone.utc)
FLOW = "activation"


@contextlib.contextmanager
def _freezegun(start: datetime) -> Iterator[Callable[[timedelta], None]]:
    with freeze_time(start) as frozen:
        yield frozen.tick


@contextlib.contextmanager
def _time_machine(start: datetime) -> Iterator[Callable[[timedelta], None]]:
    with time_machine.travel(start, tick=False) as traveller:
        yield traveller.shift


CLOCKS = [pytest.param(_freezegun, id="freezegun"), pytest.param(_time_machine, id="time-machine")]


def _run_times(client: Any) -> List[datetime]:
    runs: List[dict] = []
    token = None
    while True:
        page = client.describe_flow_execution_records(flowName=FLOW, maxResults=100,
                                                      **({"nextToken": token} if token else {}))
        runs += page["flowExecutions"]
        token = page.get("nextToken")
        if not token:
            break
    assert all(r["executionStatus"] == "Successful" for r in runs), runs
    return sorted(r["startedAt"] for r in runs)


def scheduled_runs(clock: Any, activated_at: datetime, expression: str, advance: timedelta = timedelta(hours=1),
                   **scheduled: Any) -> List[datetime]:
    """Create a scheduled flow, activate it at ``activated_at``, move the clock on by ``advance``:
    the start times of its runs."""
    with clock(activated_at - timedelta(minutes=3)) as move, mock_appflow() as emu:
        emu.create_bucket("in-bucket")
        emu.create_bucket("out-bucket")
        client = boto3.client("appflow", region_name="us-east-1")
        request = flow_request(FLOW, trigger="Scheduled", schedule=expression)
        request["triggerConfig"]["triggerProperties"]["Scheduled"].update(scheduled)
        client.create_flow(**request)  # created before: the creation is not the anchor
        move(timedelta(minutes=3))
        client.start_flow(flowName=FLOW)
        move(advance)
        return _run_times(client)


def at(*hhmmss: str) -> List[datetime]:
    out = []
    for text in hhmmss:
        h, m, *s = (int(x) for x in text.split(":"))
        out.append(NOON.replace(hour=h, minute=m, second=s[0] if s else 0))
    return out


@pytest.mark.parametrize("clock", CLOCKS)
def test_cron_activated_exactly_on_a_matching_minute_runs_at_activation(clock: Any) -> None:
    times = scheduled_runs(clock, NOON, "cron(0/15 * * * ? *)")
    assert times == at("12:00", "12:15", "12:30", "12:45", "13:00")


@pytest.mark.parametrize("clock", CLOCKS)
def test_cron_activated_half_a_second_after_the_minute_waits_for_the_next(clock: Any) -> None:
    times = scheduled_runs(clock, NOON + timedelta(milliseconds=500), "cron(0/15 * * * ? *)")
    assert times == at("12:15", "12:30", "12:45", "13:00")


@pytest.mark.parametrize("clock", CLOCKS)
def test_cron_activated_between_matching_minutes(clock: Any) -> None:
    times = scheduled_runs(clock, NOON + timedelta(minutes=7), "cron(0/15 * * * ? *)")
    assert times == at("12:15", "12:30", "12:45", "13:00")


def test_cron_activated_on_a_minute_its_fields_do_not_match() -> None:
    # 12:05:00 is a whole minute, but not one of 0/15: nothing at activation.
    times = scheduled_runs(_freezegun, NOON + timedelta(minutes=5), "cron(0/15 * * * ? *)")
    assert times == at("12:15", "12:30", "12:45", "13:00")


@pytest.mark.parametrize("clock", CLOCKS)
def test_rate_runs_at_activation_and_every_period_after(clock: Any) -> None:
    times = scheduled_runs(clock, NOON + timedelta(minutes=7, seconds=30), "rate(15minutes)")
    assert times == at("12:07:30", "12:22:30", "12:37:30", "12:52:30", "13:07:30")


def test_a_later_schedule_start_time_is_the_anchor() -> None:
    start = NOON + timedelta(minutes=30)  # whole seconds: the wire carries no fraction
    cron = scheduled_runs(_freezegun, NOON + timedelta(minutes=7), "cron(0/15 * * * ? *)", scheduleStartTime=start)
    assert cron == at("12:30", "12:45", "13:00")
    rate = scheduled_runs(_freezegun, NOON + timedelta(minutes=7), "rate(20minutes)", scheduleStartTime=start)
    assert rate == at("12:30", "12:50")


def test_the_rule_is_written_once_in_the_schedule_expressions_docstring() -> None:
    doc = " ".join((schedule_expressions.__doc__ or "").split())
    assert "cron(0/15 * * * ? *)" in doc
    assert "at the anchor itself only when the anchor falls exactly on such a minute" in doc
    assert "A rate schedule runs at the anchor and every period after it" in doc


def test_fire_times_follow_the_rule_at_the_minute_and_off_it() -> None:
    cron = schedule_expressions.parse("cron(0/15 * * * ? *)")
    noon = NOON.timestamp()
    hour_on = [noon + 900 * k for k in range(5)]
    assert schedule_expressions.fire_times(cron, noon, noon - 1e-6, noon + 3600) == hour_on
    assert schedule_expressions.fire_times(cron, noon + 0.5, noon + 0.5 - 1e-6, noon + 3600.5) == hour_on[1:]
    assert schedule_expressions.fire_times(cron, noon + 0.001, noon, noon + 3600) == hour_on[1:]
    rate = schedule_expressions.parse("rate(15minutes)")
    anchor = noon + 450
    assert schedule_expressions.fire_times(rate, anchor, anchor - 1e-6, anchor + 3600) == \
        [anchor + 900 * k for k in range(5)]
