"""What create_flow/update_flow reject: connector capabilities, destinations, tasks, operators,
trigger types and schedule expressions. A rejected request leaves no trace."""
from __future__ import annotations

from datetime import datetime, timezone

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ParamValidationError

from tests.conftest import requires_member
from tests.helpers import (
    expect_error,
    flow_request,
    profile_request,
    projection_tasks,
    s3_destination,
    salesforce_source,
)

CREATE_FAILED = "Create Flow request failed: [{}]"
NEEDS_PROJECTION = "Task Validation Error: You must specify a projection task or a MAP_ALL task"


def snapshot(client) -> dict:
    out = {}
    for item in client.list_flows(maxResults=100)["flows"]:
        d = client.describe_flow(flowName=item["flowName"])
        d.pop("ResponseMetadata")
        out[item["flowName"]] = d
    return out


def rejected(client, req: dict, message: str | None = None) -> str:
    """create_flow fails with ValidationException and nothing changes."""
    before = snapshot(client)
    text = expect_error(client.create_flow, "ValidationException", 400, message, **req)
    assert snapshot(client) == before
    expect_error(client.describe_flow, "ResourceNotFoundException", 404, flowName=req["flowName"])
    return text


@pytest.fixture
def profiles(client):
    for name, ctype in (("sf", "Salesforce"), ("zd", "Zendesk"), ("sl", "Slack"), ("mk", "Marketo"),
                        ("sn", "Servicenow")):
        client.create_connector_profile(**profile_request(name, ctype))
    client.create_flow(**flow_request("existing"))  # so "nothing changed" has something to compare
    return client


def zendesk_source(profile: str = "zd") -> dict:
    return {"connectorType": "Zendesk", "connectorProfileName": profile,
            "sourceConnectorProperties": {"Zendesk": {"object": "tickets"}}}


def slack_source(profile: str = "sl") -> dict:
    return {"connectorType": "Slack", "connectorProfileName": profile,
            "sourceConnectorProperties": {"Slack": {"object": "conversations"}}}


def marketo_source(profile: str = "mk") -> dict:
    return {"connectorType": "Marketo", "connectorProfileName": profile,
            "sourceConnectorProperties": {"Marketo": {"object": "leads"}}}


def map_task(member: str, field: str) -> dict:
    return {"sourceFields": [field], "connectorOperator": {member: "NO_OP"}, "destinationField": field,
            "taskType": "Map", "taskProperties": {}}


# -- connector capability ---------------------------------------------------------------------
def test_slack_cannot_be_a_destination(profiles):
    # botocore's own model has no Slack destination member, so the request names Slack as the
    # connector type with another connector's properties.
    dest = {"connectorType": "Slack", "connectorProfileName": "sl",
            "destinationConnectorProperties": {"S3": {"bucketName": "out-bucket"}}}
    text = rejected(profiles, flow_request("f1", destination=dest))
    assert text.startswith("Create Flow request failed: [")
    assert "Slack" in text


def test_servicenow_cannot_be_a_destination(profiles):
    dest = {"connectorType": "Servicenow", "connectorProfileName": "sn",
            "destinationConnectorProperties": {"S3": {"bucketName": "out-bucket"}}}
    rejected(profiles, flow_request("f1", destination=dest))


def test_eventbridge_cannot_be_a_source(profiles):
    source = {"connectorType": "EventBridge", "sourceConnectorProperties": {"S3": {"bucketName": "in-bucket"}}}
    text = rejected(profiles, flow_request("f1", source=source, tasks=projection_tasks("S3", ["id"])))
    assert "EventBridge" in text


def test_eventbridge_can_be_a_destination(profiles):
    dest = {"connectorType": "EventBridge", "destinationConnectorProperties": {"EventBridge": {"object": "bus"}}}
    assert profiles.create_flow(**flow_request("f1", destination=dest))["flowStatus"] == "Active"


def test_slack_can_be_a_source(profiles):
    out = profiles.create_flow(**flow_request("f1", source=slack_source(), tasks=projection_tasks("Slack", ["id"])))
    assert out["flowStatus"] == "Active"


def test_properties_of_another_connector_rejected(profiles):
    source = {"connectorType": "Salesforce", "connectorProfileName": "sf",
              "sourceConnectorProperties": {"Zendesk": {"object": "tickets"}}}
    rejected(profiles, flow_request("f1", source=source, tasks=projection_tasks("Salesforce", ["Id"])))


def test_profile_of_another_connector_type_rejected(profiles):
    source = salesforce_source("zd")  # a Zendesk profile used for Salesforce
    rejected(profiles, flow_request("f1", source=source, tasks=projection_tasks("Salesforce", ["Id"])))


def test_profile_required_for_saas_source(profiles):
    source = {"connectorType": "Salesforce", "sourceConnectorProperties": {"Salesforce": {"object": "Account"}}}
    rejected(profiles, flow_request("f1", source=source, tasks=projection_tasks("Salesforce", ["Id"])))


# -- destinations ------------------------------------------------------------------------------
@pytest.mark.parametrize("count", [0, 2])
def test_exactly_one_destination(profiles, count):
    req = flow_request("f1")
    req["destinationFlowConfigList"] = [s3_destination(bucket=f"bucket-{i}") for i in range(count)]
    rejected(profiles, req)


def test_two_destinations_rejected_on_update(profiles):
    client = profiles
    before = snapshot(client)
    req = flow_request("existing")
    req.pop("tags", None)
    req["destinationFlowConfigList"] = [s3_destination(), s3_destination(bucket="second-bucket")]
    expect_error(client.update_flow, "ValidationException", 400, **req)
    assert snapshot(client) == before


# -- tasks -------------------------------------------------------------------------------------
def test_saas_source_needs_projection_or_map_all(profiles):
    req = flow_request("f1", source=zendesk_source(), tasks=[map_task("Zendesk", "id")])
    rejected(profiles, req, CREATE_FAILED.format(NEEDS_PROJECTION))


def test_saas_source_with_map_all_accepted(profiles):
    tasks = [{"sourceFields": [], "connectorOperator": {"Salesforce": "NO_OP"}, "taskType": "Map_all",
              "taskProperties": {"EXCLUDE_SOURCE_FIELDS_LIST": "[]"}}]
    out = profiles.create_flow(**flow_request("f1", source=salesforce_source("sf"), tasks=tasks))
    assert out["flowStatus"] == "Active"
    assert profiles.describe_flow(flowName="f1")["tasks"] == tasks


def test_saas_source_with_projection_accepted(profiles):
    tasks = projection_tasks("Zendesk", ["id", "subject"])
    assert profiles.create_flow(**flow_request("f1", source=zendesk_source(), tasks=tasks))["flowStatus"] == "Active"


def test_non_projection_filter_is_not_enough(profiles):
    tasks = [{"sourceFields": ["id"], "connectorOperator": {"Zendesk": "GREATER_THAN"}, "taskType": "Filter",
              "taskProperties": {"DATA_TYPE": "integer", "VALUE": "5"}}, map_task("Zendesk", "id")]
    rejected(profiles, flow_request("f1", source=zendesk_source(), tasks=tasks), CREATE_FAILED.format(NEEDS_PROJECTION))


def test_s3_source_with_map_tasks_only(profiles):
    tasks = [map_task("S3", "id"), map_task("S3", "name")]
    assert profiles.create_flow(**flow_request("f1", tasks=tasks))["flowStatus"] == "Active"
    assert profiles.describe_flow(flowName="f1")["tasks"] == tasks


def test_filter_with_no_op_rejected(profiles):
    tasks = projection_tasks("S3", ["id"]) + [
        {"sourceFields": ["id"], "connectorOperator": {"S3": "NO_OP"}, "taskType": "Filter", "taskProperties": {}}]
    text = rejected(profiles, flow_request("f1", tasks=tasks))
    assert text.startswith("Create Flow request failed: [Task Validation Error:")


def test_zendesk_has_no_less_than(profiles):
    tasks = projection_tasks("Zendesk", ["id"]) + [
        {"sourceFields": ["id"], "connectorOperator": {"Zendesk": "LESS_THAN"}, "taskType": "Filter",
         "taskProperties": {"DATA_TYPE": "integer", "VALUE": "5"}}]
    text = rejected(profiles, flow_request("f1", source=zendesk_source(), tasks=tasks))
    assert text.startswith("1 validation error detected: Value 'LESS_THAN' at 'tasks.")
    assert "connectorOperator.Zendesk' failed to satisfy constraint: Member must satisfy enum value set: [" in text


def test_operator_keyed_by_another_connector_is_read_as_the_sources(profiles, appflow_mock):
    # [seen] AWS's own custom connector harnesses key a CustomConnector source's Map tasks by S3
    # ({"S3": "NO_OP"}) and AWS runs them: the key does not have to be the source's. [guess] The
    # operator must still be one the source supports: Zendesk filters with GREATER_THAN only.
    tasks = projection_tasks("Zendesk", ["id"]) + [
        {"sourceFields": ["id"], "connectorOperator": {"S3": "GREATER_THAN"}, "taskType": "Filter",
         "taskProperties": {"DATA_TYPE": "integer", "VALUE": "5"}}]
    profiles.create_flow(**flow_request("f1", source=zendesk_source(), tasks=tasks))
    appflow_mock.add_source_records("Zendesk", "tickets", [{"id": 4}, {"id": 6}])
    run = profiles.start_flow(flowName="f1")
    assert appflow_mock.destination_records("f1", run["executionId"]) == [{"id": "6"}]  # CSV: text
    tasks[-1]["connectorOperator"] = {"S3": "LESS_THAN"}
    text = rejected(profiles, flow_request("f2", source=zendesk_source(), tasks=tasks))
    assert text == CREATE_FAILED.format("Task Validation Error: Operator LESS_THAN is not supported by source "
                                        "connector Zendesk")


def test_operator_under_several_connectors_rejected(profiles):
    tasks = projection_tasks("Zendesk", ["id"]) + [
        {"sourceFields": ["id"], "connectorOperator": {"S3": "GREATER_THAN", "Zendesk": "GREATER_THAN"},
         "taskType": "Filter", "taskProperties": {"DATA_TYPE": "integer", "VALUE": "5"}}]
    text = rejected(profiles, flow_request("f1", source=zendesk_source(), tasks=tasks))
    assert text.startswith("Create Flow request failed: [Task Validation Error:")


def test_operator_of_wrong_task_type_rejected(profiles):
    tasks = projection_tasks("S3", ["a", "b"]) + [
        {"sourceFields": ["a", "b"], "connectorOperator": {"S3": "MASK_ALL"}, "destinationField": "a,b",
         "taskType": "Arithmetic", "taskProperties": {"MATH_OPERATION_FIELDS_ORDER": "a,b"}}]
    rejected(profiles, flow_request("f1", tasks=tasks))


def test_unknown_task_type_rejected_by_model(profiles):
    tasks = projection_tasks("S3", ["id"])
    tasks[1]["taskType"] = "Explode"
    text = rejected(profiles, flow_request("f1", tasks=tasks))
    assert "Member must satisfy enum value set" in text


def test_typical_task_list_accepted(profiles):
    tasks = projection_tasks("Salesforce", ["Id", "FirstName", "LastName", "Amount", "CreatedDate"]) + [
        {"sourceFields": ["CreatedDate"], "connectorOperator": {"Salesforce": "BETWEEN"}, "taskType": "Filter",
         "taskProperties": {"DATA_TYPE": "datetime", "LOWER_BOUND": "1600000000000", "UPPER_BOUND": "1700000000000"}},
        {"sourceFields": ["FirstName", "LastName"], "connectorOperator": {"Salesforce": "NO_OP"},
         "destinationField": "FirstName,LastName", "taskType": "Merge",
         "taskProperties": {"CONCAT_FORMAT": "${FirstName} ${LastName}"}},
        {"sourceFields": ["Amount"], "connectorOperator": {"Salesforce": "MASK_LAST_N"}, "taskType": "Mask",
         "destinationField": "Amount", "taskProperties": {"MASK_LENGTH": "2", "MASK_VALUE": "*"}},
        {"sourceFields": ["Id"], "connectorOperator": {"Salesforce": "VALIDATE_NON_NULL"}, "taskType": "Validate",
         "destinationField": "Id", "taskProperties": {"VALIDATION_ACTION": "DropRecord"}},
    ]
    assert profiles.create_flow(**flow_request("f1", source=salesforce_source("sf"), tasks=tasks))["flowStatus"] == "Active"
    assert profiles.describe_flow(flowName="f1")["tasks"] == tasks


# -- trigger types -----------------------------------------------------------------------------
def test_event_trigger_for_salesforce(profiles):
    out = profiles.create_flow(**flow_request("f1", trigger="Event", source=salesforce_source("sf"),
                                              tasks=projection_tasks("Salesforce", ["Id"])))
    assert out["flowStatus"] == "Draft"


@pytest.mark.parametrize("source_kind", ["S3", "Zendesk", "Slack"])
def test_event_trigger_rejected_for_other_sources(profiles, source_kind):
    source, member = {"S3": (None, "S3"), "Zendesk": (zendesk_source(), "Zendesk"),
                      "Slack": (slack_source(), "Slack")}[source_kind]
    req = flow_request("f1", trigger="Event", source=source, tasks=projection_tasks(member, ["id"]))
    text = rejected(profiles, req)
    assert text.startswith("Create Flow request failed: [")


def test_scheduled_needs_schedule_properties(profiles):
    req = flow_request("f1")
    req["triggerConfig"] = {"triggerType": "Scheduled"}
    rejected(profiles, req)
    req["triggerConfig"] = {"triggerType": "Scheduled", "triggerProperties": {}}
    rejected(profiles, req)


# -- schedule expressions ----------------------------------------------------------------------
@pytest.mark.parametrize("expr", [
    "rate(5minutes)", "rate(1 days)", "rate(3hours)", "rate(1minute)", "rate(2 hours)", "rate(1day)",
    "cron(0 1 * * ? *)", "cron(0/15 * * * ? *)", "cron(30 8 ? * MON-FRI *)", "cron(0 12 1 * ? *)",
    "cron(0 1 L * ? *)", "cron(0 1 15W * ? *)", "cron(0 1 ? * 6#3 *)", "cron(0 1 ? * 6L *)",
    "cron(0 1 * JAN-MAR ? *)", "cron(0,30 8-17 ? * 2-6 2025-2030)", "cron(*/5 * * * ? *)",
])
def test_schedule_expression_accepted(profiles, expr):
    assert profiles.create_flow(**flow_request("f1", trigger="Scheduled", schedule=expr))["flowStatus"] == "Draft"
    props = profiles.describe_flow(flowName="f1")["triggerConfig"]["triggerProperties"]["Scheduled"]
    assert props["scheduleExpression"] == expr


@pytest.mark.parametrize("expr", [
    "garbage", "rate(5)", "rate(0 minutes)", "rate(5 weeks)", "rate(-1 minutes)", "rate(5minutes",
    "cron(0 1 * * *)", "cron(0 1 * * * *)", "cron(61 1 * * ? *)", "cron(0 25 * * ? *)", "5 minutes",
    "cron()", "cron(ab 1 * * ? *)", "cron(0/0 * * * ? *)", "cron(0 1 * FOO ? *)", "cron(0 1 ? * XYZ *)",
    "cron(0 1 * * ? abc)", "cron(10-5 * * * ? *)", "cron(0 1 32 * ? *)", "cron(0 1 ? * 8 *)",
    "cron(0 1 * 13 ? *)", "cron(0 1 0 * ? *)", "cron(0 1 ? * 1#6 *)", "cron(0 1 * ? ? *)",
    "cron(0 1 * * ? 2200)",
])
def test_schedule_expression_rejected(profiles, expr):
    text = rejected(profiles, flow_request("f1", trigger="Scheduled", schedule=expr))
    assert text.startswith("Create Flow request failed: [")


@pytest.mark.parametrize("expr", ["rate(1minutes)", "rate(30 minutes)", "rate(59minutes)", "cron(0/30 * * * ? *)"])
def test_marketo_minimum_interval_is_one_hour(profiles, expr):
    req = flow_request("f1", trigger="Scheduled", schedule=expr, source=marketo_source(),
                       tasks=projection_tasks("Marketo", ["id"]))
    text = rejected(profiles, req)
    assert text.startswith("Create Flow request failed: [")


@pytest.mark.parametrize("expr", ["rate(1 hours)", "rate(60minutes)", "rate(1 days)", "cron(0 * * * ? *)"])
def test_marketo_hourly_accepted(profiles, expr):
    req = flow_request("f1", trigger="Scheduled", schedule=expr, source=marketo_source(),
                       tasks=projection_tasks("Marketo", ["id"]))
    assert profiles.create_flow(**req)["flowStatus"] == "Draft"


def test_minute_schedule_fine_for_zendesk(profiles):
    req = flow_request("f1", trigger="Scheduled", schedule="rate(1minutes)", source=zendesk_source(),
                       tasks=projection_tasks("Zendesk", ["id"]))
    assert profiles.create_flow(**req)["flowStatus"] == "Draft"


def test_schedule_end_before_start_rejected(profiles):
    req = flow_request("f1", trigger="Scheduled")
    req["triggerConfig"]["triggerProperties"]["Scheduled"].update({
        "scheduleStartTime": datetime(2030, 2, 1, tzinfo=timezone.utc),
        "scheduleEndTime": datetime(2030, 1, 1, tzinfo=timezone.utc),
    })
    rejected(profiles, req)


def test_schedule_offset_out_of_range_rejected_by_model(profiles):
    req = flow_request("f1", trigger="Scheduled")
    req["triggerConfig"]["triggerProperties"]["Scheduled"]["scheduleOffset"] = 36001
    text = rejected(profiles, req)
    assert "scheduleOffset" in text and "less than or equal to 36000" in text


def test_marketo_fast_schedule_rejected_on_update(profiles):
    client = profiles
    client.create_flow(**flow_request("mk-flow", trigger="Scheduled", schedule="rate(1 hours)",
                                      source=marketo_source(), tasks=projection_tasks("Marketo", ["id"])))
    before = snapshot(client)
    req = flow_request("mk-flow", trigger="Scheduled", schedule="rate(5minutes)",
                       source=marketo_source(), tasks=projection_tasks("Marketo", ["id"]))
    text = expect_error(client.update_flow, "ValidationException", 400, **req)
    assert text.startswith("Update Flow request failed due to:[")
    assert snapshot(client) == before


# -- model-level checks the service makes ------------------------------------------------------
@pytest.mark.parametrize("name", ["has space", "-leading", "a" * 257, "é-name"])
def test_bad_flow_names(profiles, name):
    before = snapshot(profiles)
    text = expect_error(profiles.create_flow, "ValidationException", 400, **flow_request(name))
    assert snapshot(profiles) == before
    assert text.startswith("1 validation error detected: Value '") and "at 'flowName'" in text


def test_missing_required_member_is_a_client_side_error(profiles):
    req = flow_request("f1")
    del req["tasks"]
    with pytest.raises(ParamValidationError):
        profiles.create_flow(**req)


def test_missing_required_member_without_client_validation(profiles):
    raw = boto3.client("appflow", region_name="us-east-1", config=Config(parameter_validation=False))
    req = flow_request("f1")
    del req["triggerConfig"]
    text = rejected(raw, req)
    assert "triggerConfig" in text


def amplitude_flow(client, name: str, expr: str) -> dict:
    if "amp" not in [p["connectorProfileName"] for p in client.describe_connector_profiles()["connectorProfileDetails"]]:
        client.create_connector_profile(
            connectorProfileName="amp", connectorType="Amplitude", connectionMode="Public",
            connectorProfileConfig={"connectorProfileProperties": {"Amplitude": {}},
                                    "connectorProfileCredentials": {"Amplitude": {"apiKey": "k", "secretKey": "s"}}})
    source = {"connectorType": "Amplitude", "connectorProfileName": "amp",
              "sourceConnectorProperties": {"Amplitude": {"object": "events"}}}
    tasks = [{"sourceFields": [], "taskType": "Map_all", "taskProperties": {"EXCLUDE_SOURCE_FIELDS_LIST": "[]"}}]
    return flow_request(name, trigger="Scheduled", schedule=expr, source=source, tasks=tasks)


@pytest.mark.parametrize("expr", ["rate(12 hours)", "rate(23hours)", "cron(0 */12 * * ? *)", "rate(30 minutes)"])
def test_amplitude_minimum_interval_is_one_day(profiles, expr):
    text = rejected(profiles, amplitude_flow(profiles, "amp-flow", expr))
    assert text.startswith("Create Flow request failed: [")


@pytest.mark.parametrize("expr", ["rate(1 days)", "rate(24 hours)", "cron(0 3 * * ? *)"])
def test_amplitude_daily_accepted(profiles, expr):
    assert profiles.create_flow(**amplitude_flow(profiles, "amp-flow", expr))["flowStatus"] == "Draft"


def test_amplitude_operator_enum_has_no_projection(profiles):
    req = amplitude_flow(profiles, "amp-flow", "rate(1 days)")
    req["tasks"] = projection_tasks("Amplitude", ["id"])
    text = rejected(profiles, req)
    assert text.startswith("2 validation errors detected: Value 'PROJECTION' at 'tasks.1.member.connectorOperator.Amplitude'")


def test_too_many_tags_rejected(profiles):
    text = rejected(profiles, flow_request("f1", tags={f"k{i}": "v" for i in range(51)}))
    assert "at 'tags' failed to satisfy constraint: Member must have length less than or equal to 50" in text


@pytest.mark.parametrize("key", ["aws:reserved", "bad\u0000key", "k" * 129])
def test_bad_tag_key_rejected(profiles, key):
    text = rejected(profiles, flow_request("f1", tags={key: "v"}))
    assert "'tags'" in text


def test_bad_kms_arn_rejected(profiles):
    text = rejected(profiles, flow_request("f1", kmsArn="arn:aws:s3:::bucket-that-is-not-a-key"))
    assert "at 'kmsArn'" in text


@requires_member("ScheduledTriggerProperties", "flowErrorDeactivationThreshold")
def test_deactivation_threshold_range(profiles):
    req = flow_request("f1", trigger="Scheduled")
    req["triggerConfig"]["triggerProperties"]["Scheduled"]["flowErrorDeactivationThreshold"] = 101
    text = rejected(profiles, req)
    assert "flowErrorDeactivationThreshold" in text
    req["triggerConfig"]["triggerProperties"]["Scheduled"]["flowErrorDeactivationThreshold"] = 100
    assert profiles.create_flow(**req)["flowStatus"] == "Draft"


# -- properties --------------------------------------------------------------------------------
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import appflow_emu  # noqa: E402

_UNITS = {"minute": 60, "minutes": 60, "hour": 3600, "hours": 3600, "day": 86400, "days": 86400}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(n=st.integers(1, 200), unit=st.sampled_from(sorted(_UNITS)), space=st.booleans())
def test_marketo_rate_accepted_iff_at_least_an_hour(n, unit, space):
    expr = f"rate({n}{' ' if space else ''}{unit})"
    with appflow_emu.mock_appflow():
        client = boto3.client("appflow", region_name="us-east-1")
        client.create_connector_profile(**profile_request("mk", "Marketo"))
        req = flow_request("f1", trigger="Scheduled", schedule=expr, source=marketo_source(),
                           tasks=projection_tasks("Marketo", ["id"]))
        if n * _UNITS[unit] >= 3600:
            assert client.create_flow(**req)["flowStatus"] == "Draft"
        else:
            expect_error(client.create_flow, "ValidationException", 400, **req)
            assert client.list_flows()["flows"] == []


_NAME = st.from_regex(r"\A[a-zA-Z0-9][a-zA-Z0-9_!@#.-]{1,40}\Z")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(names=st.lists(_NAME, min_size=1, max_size=5, unique=True))
def test_any_valid_name_round_trips(names):
    with appflow_emu.mock_appflow():
        client = boto3.client("appflow", region_name="us-east-1")
        for name in names:
            arn = client.create_flow(**flow_request(name))["flowArn"]
            assert arn == f"arn:aws:appflow:us-east-1:123456789012:flow/{name}"
            assert client.describe_flow(flowName=name)["flowName"] == name
        assert sorted(f["flowName"] for f in client.list_flows()["flows"]) == sorted(names)
        for name in names:
            client.delete_flow(flowName=name)
        assert client.list_flows()["flows"] == []
