"""Misuse of the handle is loud (issue 16): a typo in a setting or an attribute, an entity the
connector does not have, an old keyword name; and the small things a new user tripped on."""
from __future__ import annotations

import copy
import json
import urllib.error
import urllib.request
import warnings
from typing import Any, Tuple
from unittest import mock

import pytest

from appflow_emu import get_emulator, mock_appflow
from tests.helpers import flow_request

ROWS = [{"Id": "001", "Name": "Acme"}]


# -- attributes the handle does not have ------------------------------------------------------------

def test_a_misspelt_setting_is_refused_naming_the_right_one(appflow_mock):
    with pytest.raises(AttributeError, match="no setting 'conflict_on_concurent_start'.*'conflict_on_concurrent_start'"):
        appflow_mock.conflict_on_concurent_start = True
    assert appflow_mock.conflict_on_concurrent_start is False


def test_the_settings_still_take_values(appflow_mock):
    appflow_mock.conflict_on_concurrent_start = True
    appflow_mock.in_progress_polls = 2
    assert appflow_mock.conflict_on_concurrent_start is True and appflow_mock.in_progress_polls == 2


def test_reading_a_misspelt_attribute_names_the_right_one(appflow_mock):
    with pytest.raises(AttributeError, match="no attribute 'destination_record'.*'destination_records'"):
        appflow_mock.destination_record  # noqa: B018


def test_assigning_a_read_only_property_says_read_only(appflow_mock):
    with pytest.raises(AttributeError, match="'seed' is read-only.*mock_appflow\\(seed="):
        appflow_mock.seed = 3
    assert appflow_mock.seed == 0


def test_assigning_over_a_verb_says_it_is_a_method(appflow_mock):
    with pytest.raises(AttributeError, match="'tick' is a method"):
        appflow_mock.tick = None


def test_a_region_view_refuses_every_assignment(appflow_mock):
    view = appflow_mock.state("us-east-1")
    with pytest.raises(AttributeError, match="'flows' is read-only.*RegionView only reads"):
        view.flows = {}
    with pytest.raises(AttributeError, match="has no setting 'flow'"):
        view.flow = {}
    with pytest.raises(AttributeError, match="no attribute 'flow'.*'flows'"):
        view.flow  # noqa: B018


def test_mock_patch_object_on_the_class_and_copy_still_work(appflow_mock):
    with mock.patch.object(type(appflow_mock), "now", return_value=0.0):
        assert appflow_mock.now() == 0.0
    assert copy.copy(appflow_mock.state("us-east-1")).region == "us-east-1"


# -- seeded data for an entity the connector does not have -----------------------------------------

def test_a_misspelt_entity_is_refused_listing_close_names(appflow_mock):
    with pytest.raises(ValueError, match="Salesforce has no entity 'Acount'. Did you mean 'Account'\\?.*add_entity"):
        appflow_mock.add_source_records("Salesforce", "Acount", ROWS)
    with pytest.raises(ValueError, match="no entity 'Acount'"):
        appflow_mock.source_records("Salesforce", "Acount")
    assert appflow_mock.source_records("Salesforce", "Account") == []  # nothing was seeded


def test_known_custom_and_added_entities_are_accepted(appflow_mock):
    appflow_mock.add_source_records("Salesforce", "Account", ROWS)
    appflow_mock.add_source_records("Salesforce", "Invoice__c", [{"Id": "1"}])  # a custom object
    appflow_mock.add_entity("Salesforce", "Widget", ["Id", "Name"])
    appflow_mock.add_source_records("Salesforce", "Widget", ROWS)
    appflow_mock.add_source_records("Salesforce", "Acount", ROWS, check_fields=False)  # unchecked, as asked
    assert appflow_mock.source_records("Salesforce", "Widget") == ROWS
    assert appflow_mock.source_records("Salesforce", "Acount") == ROWS


# -- old keyword names ----------------------------------------------------------------------------

def _flow(emu, client):
    emu.create_bucket("in-bucket")
    emu.create_bucket("out-bucket")
    client.create_flow(**flow_request("renamed"))


def test_destination_records_takes_flow_and_the_old_flow_name_with_a_warning(appflow_mock, client):
    _flow(appflow_mock, client)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert appflow_mock.destination_records(flow="renamed") == []
    with pytest.warns(DeprecationWarning, match="flow_name=.*flow="):
        assert appflow_mock.destination_records(flow_name="renamed") == []
    with pytest.raises(TypeError, match="both flow_name= and flow="):
        appflow_mock.destination_records(flow="renamed", flow_name="renamed")


def test_create_glue_database_takes_database_and_the_old_name_with_a_warning(appflow_mock):
    appflow_mock.create_glue_database(database="first")
    with pytest.warns(DeprecationWarning, match="name=.*database="):
        appflow_mock.create_glue_database(name="second")
    with pytest.raises(TypeError, match="both name= and database="):
        appflow_mock.create_glue_database(name="third", database="third")
    assert appflow_mock.glue_tables("first") == [] and appflow_mock.glue_tables("second") == []


# -- small things ---------------------------------------------------------------------------------

def test_counts_of_one_are_singular(appflow_mock, client):
    _flow(appflow_mock, client)
    assert "1 flow," in repr(appflow_mock.state("us-east-1"))
    assert "0 connector profiles" not in repr(appflow_mock.state("us-east-1"))  # it says "0 profiles"
    assert "0 profiles" in repr(appflow_mock.state("us-east-1"))


def test_get_emulator_outside_a_mock_is_none():
    assert get_emulator() is None
    with mock_appflow() as emu:
        assert get_emulator() is emu
    assert get_emulator() is None


def test_mock_appflow_without_parentheses_is_a_context_manager():
    with mock_appflow as emu:
        assert get_emulator() is emu and emu.seed == 0
        with mock_appflow as inner:  # nested, as mock_appflow() nests
            assert get_emulator() is inner
        assert get_emulator() is emu
    assert get_emulator() is None


def test_the_control_api_takes_the_new_names_and_the_old_ones():
    server_module = pytest.importorskip("appflow_emu.server")

    with server_module.AppFlowServer(port=0) as server:
        def post(verb: str, **kwargs: Any) -> Tuple[int, Any]:
            request = urllib.request.Request(f"{server.url}/_appflow_emu/{verb}", data=json.dumps(kwargs).encode(),
                                             headers={"Content-Type": "application/json"}, method="POST")
            try:
                with urllib.request.urlopen(request, timeout=10) as response:
                    return response.status, json.loads(response.read())
            except urllib.error.HTTPError as error:
                return error.code, json.loads(error.read())

        assert post("create_glue_database", database="new") == (200, {"result": None})
        with warnings.catch_warnings():  # the warning is the server's, in its own thread: not checked here
            warnings.simplefilter("ignore", DeprecationWarning)
            assert post("create_glue_database", name="old") == (200, {"result": None})
            assert post("destination_records", flow_name="missing")[0] == 404
        assert post("glue_tables", database="old") == (200, {"result": []})
        status, answer = post("destination_records", flow="missing")
        assert status == 404 and "'missing'" in answer["message"]
        status, answer = post("destination_records", flow="missing", flow_name="missing")
        assert status == 400 and "both flow_name= and flow=" in answer["message"]
