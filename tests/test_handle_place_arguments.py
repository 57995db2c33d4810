"""Every handle verb that takes ``region=`` and ``account_id=`` checks them (issue 17, item 5), the
checks the control API goes through too: a region that is not a region name botocore accepts, an
account that is not 12 digits, is a TypeError/ValueError naming the argument, and nothing changes."""
from __future__ import annotations

import inspect
from typing import Any, Dict

import pytest

from appflow_emu import Emulator
from tests.helpers import flow_request, profile_request

PLACE = {"region": "us-east-1", "account_id": "123456789012"}
# A valid call of every verb taking region=/account_id= (keyword arguments besides those two).
CALLS: Dict[str, Dict[str, Any]] = {
    "state": {}, "add_source_records": {"connector_type": "Salesforce", "entity": "Account", "records": []},
    "source_records": {"connector_type": "Salesforce", "entity": "Account"},
    "add_entity": {"connector_type": "Salesforce", "entity": "Widget", "fields": ["Id"]},
    "destination_records": {"flow": "f1"}, "warehouse_rows": {"profile": "wh", "table": "T"},
    "notifications": {"flow": "f1"}, "events": {}, "lookout_records": {},
    "fail_next_execution": {"flow": "f1"}, "fail_records": {"flow": "f1", "predicate": None},
    "set_in_progress_polls": {"flow": "f1", "polls": 1}, "invalidate_credentials": {"profile": "sf"},
    "register_connector_implementation": {"label": "shop", "implementation": None},
    "register_lambda": {"function": "fn", "handler": "json:loads"},
    "create_glue_database": {"database": "db"}, "glue_tables": {},
}
PLACED = sorted(name for name, member in inspect.getmembers(Emulator, callable)
                if not name.startswith("_") and "region" in inspect.signature(member).parameters)


def test_every_verb_taking_a_region_is_checked_here() -> None:
    assert PLACED == sorted(CALLS)


@pytest.fixture
def emu(appflow_mock, client):
    client.create_connector_profile(**profile_request("sf", "Salesforce"))
    client.create_connector_profile(**profile_request("wh", "Snowflake"))
    client.create_flow(**flow_request("f1"))
    return appflow_mock


@pytest.mark.parametrize("verb", PLACED)
@pytest.mark.parametrize("name, wrong, error", [
    ("region", True, TypeError), ("region", 0, TypeError), ("region", float("nan"), TypeError),
    ("region", ["us-east-1"], TypeError), ("region", "", ValueError), ("region", "us east 1", ValueError),
    ("account_id", 123456789012, TypeError), ("account_id", float("nan"), TypeError),
    ("account_id", "abc", ValueError), ("account_id", "1234567890123", ValueError),
    ("account_id", "١٢٣٤٥٦٧٨٩٠١٢", ValueError),  # digits, but not ASCII ones
])
def test_a_bad_region_or_account_is_refused_naming_it_and_changes_nothing(emu, verb, name, wrong, error) -> None:
    before = emu.snapshot()
    with pytest.raises(error, match=f"^{name}"):
        getattr(emu, verb)(**{**CALLS[verb], **PLACE, name: wrong})
    assert emu.snapshot() == before


def test_good_places_still_work(emu) -> None:
    emu.add_source_records("Salesforce", "Account", [{"Name": "Acme"}], **PLACE)
    assert emu.source_records("Salesforce", "Account", **PLACE) == [{"Name": "Acme"}]
    assert emu.state(**PLACE).flows.keys() == {"f1"}
    emu.fail_records("f1", lambda record: False, **PLACE)
    emu.create_glue_database("db", **PLACE)
    assert emu.glue_tables("db", **PLACE) == []


@pytest.mark.parametrize("verb, kwargs, name", [
    ("add_source_records", {"connector_type": "Salesforce", "entity": "Account", "records": [], "check_fields": "no"},
     "check_fields"),
    ("invalidate_credentials", {"profile": "sf", "invalid": 1}, "invalid"),
    ("add_entity", {"connector_type": "Salesforce", "entity": "Widget", "fields": ["Id"], "group": 1}, "group"),
    ("add_entity", {"connector_type": "Salesforce", "entity": "Widget", "fields": ["Id"], "label": []}, "label"),
    ("add_entity", {"connector_type": "Salesforce", "entity": "Widget", "fields": {"Id": 1}}, "field 'Id'"),
    ("destination_records", {"flow": "f1", "execution_id": 1}, "execution_id"),
    ("list_objects", {"bucket": "in-bucket", "prefix": 1}, "prefix"),
    ("set_quota", {"name": ["flows"], "value": 1}, "name"),
])
def test_other_arguments_of_the_wrong_kind_are_type_errors_naming_them(emu, verb, kwargs, name) -> None:
    before = emu.snapshot()
    with pytest.raises(TypeError, match=f"^{name}"):
        getattr(emu, verb)(**kwargs)
    assert emu.snapshot() == before
