"""What recorded real responses and real clients show, through boto3 (docs/fidelity.md tags each).

- ``recordsProcessed``/``bytesProcessed`` count what the source returned: SaaS sources apply the
  flow's value filters and the incremental window in their query; S3 sources read every record.
- ``describe_flow`` carries ``metadataCatalogConfig: {}`` and ``schemaVersion: 1`` when no catalog
  is configured; a successful last run has no message.
- Statuses: TagResource and UntagResource answer 204 with an empty body, the rest 200; the table in
  docs/fidelity.md is checked against a successful call of every operation.
- Custom connectors are reported as ``CUSTOMCONNECTOR`` registered by ``CUSTOM``.
- Run messages are single-spaced and trimmed.
- ``createdAt == lastUpdatedAt`` at creation; only update_flow moves ``lastUpdatedAt``.
"""
from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any, Dict, List, Optional

import boto3
import pytest
from botocore.exceptions import ClientError
from hypothesis import given, settings
from hypothesis import strategies as st

from appflow_emu import mock_appflow
from tests.conftest import has_member, has_operation
from tests.helpers import profile_request, s3_destination, s3_source

REGION = "us-east-1"
DOCS = Path(__file__).resolve().parent.parent / "docs" / "fidelity.md"
# executionMessage's pattern in the model: [\w!@#\-.?,\s]*
MESSAGE_PATTERN = re.compile(r"[A-Za-z0-9_!@#\-.?,\s]*")

DEALS = [
    {"Id": "1", "Name": "Acme", "Amount": 50, "LastModifiedDate": "2024-01-10T00:00:00Z"},
    {"Id": "2", "Name": "Globex", "Amount": 150, "LastModifiedDate": "2024-02-10T00:00:00Z"},
    {"Id": "3", "Name": "Initech", "Amount": None, "LastModifiedDate": "2024-03-10T00:00:00Z"},
]


@pytest.fixture
def emu(appflow_mock: Any) -> Any:
    appflow_mock.create_bucket("out-bucket")
    return appflow_mock


@pytest.fixture
def client(emu: Any) -> Any:
    return boto3.client("appflow", region_name=REGION)


def op(member: str, operator: str) -> Dict[str, str]:
    return {member: operator}


def projection(member: str, *fields: str) -> Dict[str, Any]:
    return {"taskType": "Filter", "sourceFields": list(fields), "connectorOperator": op(member, "PROJECTION"),
            "taskProperties": {}}


def map_(member: str, field: str) -> Dict[str, Any]:
    return {"taskType": "Map", "sourceFields": [field], "destinationField": field,
            "connectorOperator": op(member, "NO_OP"), "taskProperties": {}}


def value_filter(member: str, operator: str, field: str, data_type: str, **props: str) -> Dict[str, Any]:
    return {"taskType": "Filter", "sourceFields": [field], "connectorOperator": op(member, operator),
            "taskProperties": {"DATA_TYPE": data_type, **props}}


def saas_flow(client: Any, name: str, connector: str, member: str, entity: str, tasks: List[Dict[str, Any]],
              profile: str = "p", trigger: Optional[Dict[str, Any]] = None, **source_extra: Any) -> None:
    try:
        client.create_connector_profile(**profile_request(profile, connector))
    except client.exceptions.ConflictException:
        pass
    client.create_flow(
        flowName=name,
        triggerConfig=trigger or {"triggerType": "OnDemand"},
        sourceFlowConfig={"connectorType": connector, "connectorProfileName": profile,
                          "sourceConnectorProperties": {member: {"object": entity}}, **source_extra},
        destinationFlowConfigList=[s3_destination("out-bucket", "out", "JSON")],
        tasks=tasks,
    )


def run(client: Any, name: str) -> Dict[str, Any]:
    execution_id = client.start_flow(flowName=name)["executionId"]
    [execution] = [e for e in client.describe_flow_execution_records(flowName=name)["flowExecutions"]
                   if e["executionId"] == execution_id]
    return execution


def deal_tasks(*extra: Dict[str, Any]) -> List[Dict[str, Any]]:
    return [projection("Salesforce", "Id", "Name", "Amount", "LastModifiedDate"), *extra,
            map_("Salesforce", "Id")]


def epoch_ms(text: str) -> str:
    return str(int(dt.datetime.fromisoformat(text).replace(tzinfo=dt.timezone.utc).timestamp() * 1000))


# -- records processed: what the source returned ---------------------------------------------------

def test_a_date_filter_in_the_future_processes_nothing(emu: Any, client: Any) -> None:
    """Airflow's AppflowRecordsShortCircuitOperator stops a pipeline on recordsProcessed 0: its
    system test runs against AWS with a Salesforce filter dated in the future."""
    emu.add_source_records("Salesforce", "Deal__c", DEALS)
    saas_flow(client, "future", "Salesforce", "Salesforce", "Deal__c", deal_tasks(
        value_filter("Salesforce", "GREATER_THAN", "LastModifiedDate", "datetime", VALUE=epoch_ms("2999-01-01T00:00:00"))))
    execution = run(client, "future")
    assert execution["executionStatus"] == "Successful"
    result = execution["executionResult"]
    assert (result["recordsProcessed"], result["bytesProcessed"]) == (0, 0)
    assert emu.destination_records("future", execution["executionId"]) == []
    # What the short-circuit operator reads: the run of that execution id processed no record.
    assert not execution["executionResult"]["recordsProcessed"]


def test_a_filter_keeping_two_of_three_processes_two(emu: Any, client: Any) -> None:
    emu.add_source_records("Salesforce", "Deal__c", DEALS)
    saas_flow(client, "all", "Salesforce", "Salesforce", "Deal__c", deal_tasks())
    saas_flow(client, "since-feb", "Salesforce", "Salesforce", "Deal__c", deal_tasks(
        value_filter("Salesforce", "GREATER_THAN_OR_EQUAL_TO", "LastModifiedDate", "datetime",
                     VALUE=epoch_ms("2024-02-01T00:00:00"))))
    everything, filtered = run(client, "all")["executionResult"], run(client, "since-feb")["executionResult"]
    assert everything["recordsProcessed"] == 3
    assert filtered["recordsProcessed"] == 2
    sizes = [len(json.dumps(d)) for d in DEALS]
    assert everything["bytesProcessed"] == sum(sizes)
    assert filtered["bytesProcessed"] == sum(sizes[1:])


@pytest.mark.parametrize("operator, props, kept", [
    ("EQUAL_TO", {"VALUES": "Acme,Initech"}, ["1", "3"]),
    ("NOT_EQUAL_TO", {"VALUE": "Acme"}, ["2", "3"]),
    ("CONTAINS", {"VALUE": "ex"}, ["2"]),
])
def test_text_filters_are_pushed_down_by_salesforce(emu: Any, client: Any, operator: str, props: Dict[str, str],
                                                    kept: List[str]) -> None:
    emu.add_source_records("Salesforce", "Deal__c", DEALS)
    saas_flow(client, "text", "Salesforce", "Salesforce", "Deal__c",
              deal_tasks(value_filter("Salesforce", operator, "Name", "string", **props)))
    execution = run(client, "text")
    assert [r["Id"] for r in emu.destination_records("text", execution["executionId"])] == kept
    assert execution["executionResult"]["recordsProcessed"] == len(kept)


def test_numeric_between_is_pushed_down(emu: Any, client: Any) -> None:
    emu.add_source_records("Salesforce", "Deal__c", DEALS)
    saas_flow(client, "between", "Salesforce", "Salesforce", "Deal__c", deal_tasks(
        value_filter("Salesforce", "BETWEEN", "Amount", "double", LOWER_BOUND="10", UPPER_BOUND="100")))
    execution = run(client, "between")
    assert execution["executionResult"]["recordsProcessed"] == 1


def test_records_removed_by_a_local_step_still_count(emu: Any, client: Any) -> None:
    """Validate tasks run after the source returned the records: a dropped record was processed."""
    emu.add_source_records("Salesforce", "Deal__c", DEALS)
    saas_flow(client, "validated", "Salesforce", "Salesforce", "Deal__c", deal_tasks(
        {"taskType": "Validate", "sourceFields": ["Amount"], "connectorOperator": op("Salesforce", "VALIDATE_NON_NULL"),
         "taskProperties": {"VALIDATION_ACTION": "DropRecord"}}))
    execution = run(client, "validated")
    assert [r["Id"] for r in emu.destination_records("validated", execution["executionId"])] == ["1", "2"]
    assert execution["executionResult"]["recordsProcessed"] == 3


def test_zendesk_pushes_down_greater_than(emu: Any, client: Any) -> None:
    tickets = [{"id": 1, "subject": "a", "updated_at": "2024-01-01T00:00:00Z"},
               {"id": 2, "subject": "b", "updated_at": "2024-06-01T00:00:00Z"}]
    emu.add_source_records("Zendesk", "tickets", tickets)
    saas_flow(client, "zd", "Zendesk", "Zendesk", "tickets", [
        projection("Zendesk", "id", "subject", "updated_at"),
        value_filter("Zendesk", "GREATER_THAN", "updated_at", "datetime", VALUE=epoch_ms("2024-03-01T00:00:00")),
        map_("Zendesk", "id")])
    execution = run(client, "zd")
    assert execution["executionResult"]["recordsProcessed"] == 1
    assert emu.destination_records("zd", execution["executionId"]) == [{"id": 2}]


def test_an_s3_source_counts_every_record_it_reads(emu: Any, client: Any) -> None:
    emu.create_bucket("in-bucket")
    emu.put_object("in-bucket", "data/deals.csv", "id,name\n1,Acme\n2,Globex\n3,Initech\n")
    client.create_flow(
        flowName="s3-filtered", triggerConfig={"triggerType": "OnDemand"},
        sourceFlowConfig=s3_source("in-bucket", "data"),
        destinationFlowConfigList=[s3_destination("out-bucket", "out", "JSON")],
        tasks=[value_filter("S3", "EQUAL_TO", "name", "string", VALUE="Globex"), map_("S3", "id")])
    execution = run(client, "s3-filtered")
    assert emu.destination_records("s3-filtered", execution["executionId"]) == [{"id": "2"}]
    assert execution["executionResult"]["recordsProcessed"] == 3


def test_an_s3_source_validates_before_it_filters(emu: Any, client: Any) -> None:
    """Nothing is pushed down to S3: the validation sees the record the filter would drop."""
    emu.create_bucket("in-bucket")
    emu.put_object("in-bucket", "data/deals.json", '{"id": "1", "amount": 5}\n{"id": "2", "amount": null}\n')
    client.create_flow(
        flowName="s3-validated", triggerConfig={"triggerType": "OnDemand"},
        sourceFlowConfig=s3_source("in-bucket", "data"),
        destinationFlowConfigList=[s3_destination("out-bucket", "out", "JSON")],
        tasks=[value_filter("S3", "GREATER_THAN", "amount", "double", VALUE="0"),
               {"taskType": "Validate", "sourceFields": ["amount"], "connectorOperator": op("S3", "VALIDATE_NON_NULL"),
                "taskProperties": {"VALIDATION_ACTION": "DropDataset"}},
               map_("S3", "id")])
    execution = run(client, "s3-validated")
    assert execution["executionStatus"] == "Error"
    assert "amount" in execution["executionResult"]["errorInfo"]["executionMessage"]


def test_an_incremental_flow_counts_only_its_window(emu: Any, client: Any) -> None:
    """The only record is older than the second window: 1 record on the first run, 0 later."""
    half_a_day_ago = dt.datetime.fromtimestamp(emu.now() - 12 * 3600, tz=dt.timezone.utc)
    emu.add_source_records("Salesforce", "Deal__c", [
        {"Id": "1", "Name": "Acme", "Amount": 1, "LastModifiedDate": half_a_day_ago.isoformat()}])
    saas_flow(client, "incremental", "Salesforce", "Salesforce", "Deal__c", deal_tasks(), trigger={
        "triggerType": "Scheduled",
        "triggerProperties": {"Scheduled": {"scheduleExpression": "rate(1hours)", "dataPullMode": "Incremental"}}})
    client.start_flow(flowName="incremental")
    emu.advance(3 * 3600 + 60)
    runs = client.describe_flow_execution_records(flowName="incremental")["flowExecutions"][::-1]
    assert len(runs) >= 3
    assert [r["executionResult"]["recordsProcessed"] for r in runs] == [1] + [0] * (len(runs) - 1)
    assert all(r["executionStatus"] == "Successful" for r in runs)


class _IgnoresHints:
    """A custom connector that returns every record whatever the flow's filters say."""

    def __init__(self, rows: List[Dict[str, Any]]) -> None:
        self.rows = rows
        self.filters_seen: List[Any] = []

    def read_records(self, entity: str, fields: Optional[List[str]], filters: Any = None) -> List[Dict[str, Any]]:
        self.filters_seen.append(filters)
        return [dict(r) for r in self.rows]


def _custom_profile(client: Any, label: str = "shop") -> None:
    client.register_connector(connectorLabel=label, connectorProvisioningType="LAMBDA",
                              connectorProvisioningConfig={"lambda": {"lambdaArn": "arn:aws:lambda:us-east-1:123456789012:function:shop"}})
    client.create_connector_profile(
        connectorProfileName="shop-profile", connectorType="CustomConnector", connectorLabel=label, connectionMode="Public",
        connectorProfileConfig={"connectorProfileProperties": {"CustomConnector": {}},
                                "connectorProfileCredentials": {"CustomConnector": {
                                    "authenticationType": "APIKEY", "apiKey": {"apiKey": "k-secret"}}}})


def _custom_flow(client: Any, name: str) -> None:
    client.create_flow(
        flowName=name, triggerConfig={"triggerType": "OnDemand"},
        sourceFlowConfig={"connectorType": "CustomConnector", "connectorProfileName": "shop-profile",
                          "sourceConnectorProperties": {"CustomConnector": {"entityName": "orders"}}},
        destinationFlowConfigList=[s3_destination("out-bucket", "out", "JSON")],
        tasks=[projection("CustomConnector", "id", "total"),
               value_filter("CustomConnector", "GREATER_THAN", "total", "double", VALUE="10"),
               map_("CustomConnector", "id")])


@pytest.mark.skipif(not has_operation("RegisterConnector"), reason="the installed model has no custom connectors")
def test_a_plugged_in_connector_counts_what_it_returned(emu: Any, client: Any) -> None:
    """The filters go to the implementation as hints; what it returns is processed, then filtered."""
    _custom_profile(client)
    impl = _IgnoresHints([{"id": "a", "total": 5}, {"id": "b", "total": 50}])
    emu.register_connector_implementation("shop", impl)
    _custom_flow(client, "plugged")
    execution = run(client, "plugged")
    assert impl.filters_seen[0][0]["operator"] == "GREATER_THAN"
    assert execution["executionResult"]["recordsProcessed"] == 2
    assert emu.destination_records("plugged", execution["executionId"]) == [{"id": "b"}]


@pytest.mark.skipif(not has_operation("RegisterConnector"), reason="the installed model has no custom connectors")
def test_a_custom_connector_with_nothing_plugged_in_applies_the_filters(emu: Any, client: Any) -> None:
    _custom_profile(client)
    emu.add_source_records("CustomConnector", "orders", [{"id": "a", "total": 5}, {"id": "b", "total": 50}])
    _custom_flow(client, "datasets")
    execution = run(client, "datasets")
    assert execution["executionResult"]["recordsProcessed"] == 1


def _docs_table(heading: str) -> Dict[str, str]:
    """The first two columns of the table under ``heading`` in docs/fidelity.md."""
    text = DOCS.read_text(encoding="utf-8")
    section = text.split(heading, 1)[1].split("\n#", 1)[0]
    rows = [line.strip().strip("|").split("|") for line in section.splitlines() if line.startswith("| ")]
    return {cells[0].strip().strip("`"): cells[1].strip() for cells in rows[1:] if not set(cells[0]) <= {"-", " "}}


VALUE_FILTERS = {"LESS_THAN", "GREATER_THAN", "LESS_THAN_OR_EQUAL_TO", "GREATER_THAN_OR_EQUAL_TO", "EQUAL_TO",
                 "NOT_EQUAL_TO", "BETWEEN", "CONTAINS"}


@pytest.mark.skipif(not has_member("ConnectorConfiguration", "supportedOperators"),
                    reason="the installed model's connector configurations list no operators")
def test_the_pushdown_table_in_the_docs_is_what_describe_connectors_lists(client: Any) -> None:
    """docs/fidelity.md lists, per source, the filter operators applied at the source: those of
    its supportedOperators (S3: none, it reads every object)."""
    table = _docs_table("### Filters applied by the source")
    configs: Dict[str, Any] = {}
    token = None
    while True:
        page = client.describe_connectors(**({"nextToken": token} if token else {}))
        configs.update(page["connectorConfigurations"])
        token = page.get("nextToken")
        if not token:
            break
    sources = {t for t, c in configs.items() if c["canUseAsSource"]} | {"CustomConnector"}
    assert set(table) == sources
    for connector in sources:
        operators = configs[connector]["supportedOperators"] if connector in configs else sorted(VALUE_FILTERS)
        expected = set() if connector == "S3" else VALUE_FILTERS & set(operators)
        documented = {o.strip().strip("`") for o in table[connector].split(",")} - {"none", ""}
        assert documented == expected, connector


# -- describe_flow members -------------------------------------------------------------------------

def test_describe_flow_without_a_catalog(emu: Any, client: Any) -> None:
    emu.add_source_records("Salesforce", "Deal__c", DEALS)
    saas_flow(client, "plain", "Salesforce", "Salesforce", "Deal__c", deal_tasks())
    described = client.describe_flow(flowName="plain")
    if has_member("DescribeFlowResponse", "metadataCatalogConfig"):
        assert described["metadataCatalogConfig"] == {}
    else:
        assert "metadataCatalogConfig" not in described
    if has_member("DescribeFlowResponse", "schemaVersion"):
        assert described["schemaVersion"] == 1
    assert "lastRunMetadataCatalogDetails" not in described
    assert "lastRunExecutionDetails" not in described
    run(client, "plain")
    details = client.describe_flow(flowName="plain")["lastRunExecutionDetails"]
    assert details["mostRecentExecutionStatus"] == "Successful"
    assert "mostRecentExecutionMessage" not in details
    assert "lastRunMetadataCatalogDetails" not in client.describe_flow(flowName="plain")


def test_a_described_flow_is_valid_create_input(emu: Any, client: Any) -> None:
    """Clone tools pass describe_flow's members straight back, metadataCatalogConfig {} included."""
    saas_flow(client, "original", "Salesforce", "Salesforce", "Deal__c", deal_tasks())
    described = client.describe_flow(flowName="original")
    keep = ("triggerConfig", "sourceFlowConfig", "destinationFlowConfigList", "tasks", "metadataCatalogConfig")
    client.create_flow(flowName="clone", **{k: described[k] for k in keep if k in described})
    assert client.describe_flow(flowName="clone")["tasks"] == described["tasks"]


def test_a_failed_last_run_has_a_message(emu: Any, client: Any) -> None:
    saas_flow(client, "failing", "Salesforce", "Salesforce", "Deal__c", deal_tasks())
    emu.fail_next_execution("failing", "The source is down.")
    run(client, "failing")
    details = client.describe_flow(flowName="failing")["lastRunExecutionDetails"]
    assert (details["mostRecentExecutionStatus"], details["mostRecentExecutionMessage"]) == (
        "Error", "The source is down.")


# -- statuses -----------------------------------------------------------------------------------------

class Wire:
    """The status and body of every successful answer the client parses."""

    def __init__(self, client: Any) -> None:
        self.seen: Dict[str, List[Any]] = {}
        client.meta.events.register("after-call.appflow", self._after)

    def _after(self, http_response: Any, model: Any, **_: Any) -> None:
        if http_response.status_code < 300:
            self.seen.setdefault(model.name, []).append((http_response.status_code, http_response.content))


def test_tag_and_untag_answer_204_with_an_empty_body(emu: Any, client: Any) -> None:
    wire = Wire(client)
    saas_flow(client, "tagged", "Salesforce", "Salesforce", "Deal__c", deal_tasks())
    arn = client.describe_flow(flowName="tagged")["flowArn"]
    assert client.tag_resource(resourceArn=arn, tags={"env": "prod"})["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert client.untag_resource(resourceArn=arn, tagKeys=["env"])["ResponseMetadata"]["HTTPStatusCode"] == 204
    client.delete_flow(flowName="tagged")
    assert wire.seen["TagResource"] == [(204, b"")]
    assert wire.seen["UntagResource"] == [(204, b"")]
    assert wire.seen["DeleteFlow"] == [(200, b"")]
    # Errors keep their own statuses.
    with pytest.raises(ClientError) as err:
        client.tag_resource(resourceArn=arn, tags={"env": "prod"})
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def _call_every_operation(emu: Any, client: Any) -> None:
    """One successful call of every operation the installed model has."""
    def call(name: str, **kwargs: Any) -> Any:
        if has_operation(name):
            method = getattr(client, re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower())
            return method(**kwargs)
        return None

    emu.add_source_records("Salesforce", "Deal__c", DEALS)
    call("CreateConnectorProfile", **profile_request("prof", "Salesforce"))
    call("DescribeConnectorProfiles")
    call("UpdateConnectorProfile", connectorProfileName="prof", connectionMode="Public",
         connectorProfileConfig=profile_request("prof", "Salesforce")["connectorProfileConfig"])
    saas_flow(client, "flow-1", "Salesforce", "Salesforce", "Deal__c", deal_tasks(), profile="prof")
    call("DescribeFlow", flowName="flow-1")
    call("ListFlows")
    call("UpdateFlow", flowName="flow-1", triggerConfig={"triggerType": "OnDemand"},
         sourceFlowConfig=client.describe_flow(flowName="flow-1")["sourceFlowConfig"],
         destinationFlowConfigList=[s3_destination("out-bucket", "out", "JSON")], tasks=deal_tasks())
    emu.set_in_progress_polls("flow-1", 5)
    execution_id = call("StartFlow", flowName="flow-1")["executionId"]
    call("DescribeFlowExecutionRecords", flowName="flow-1")
    call("CancelFlowExecutions", flowName="flow-1", executionIds=[execution_id])
    saas_flow(client, "scheduled", "Salesforce", "Salesforce", "Deal__c", deal_tasks(), profile="prof", trigger={
        "triggerType": "Scheduled", "triggerProperties": {"Scheduled": {"scheduleExpression": "rate(1hours)"}}})
    call("StartFlow", flowName="scheduled")
    call("StopFlow", flowName="scheduled")
    arn = client.describe_flow(flowName="flow-1")["flowArn"]
    call("TagResource", resourceArn=arn, tags={"k": "v"})
    call("ListTagsForResource", resourceArn=arn)
    call("UntagResource", resourceArn=arn, tagKeys=["k"])
    call("DescribeConnectors")
    call("DescribeConnector", connectorType="Salesforce")
    call("ListConnectorEntities", connectorProfileName="prof")
    call("DescribeConnectorEntity", connectorEntityName="Account", connectorProfileName="prof")
    call("ResetConnectorMetadataCache", connectorProfileName="prof")
    lambda_arn = "arn:aws:lambda:us-east-1:123456789012:function:shop"
    call("RegisterConnector", connectorLabel="shop", connectorProvisioningType="LAMBDA",
         connectorProvisioningConfig={"lambda": {"lambdaArn": lambda_arn}})
    call("ListConnectors")
    call("UpdateConnectorRegistration", connectorLabel="shop", description="Shop")
    call("UnregisterConnector", connectorLabel="shop")
    call("DeleteFlow", flowName="flow-1", forceDelete=True)
    call("DeleteFlow", flowName="scheduled", forceDelete=True)
    call("DeleteConnectorProfile", connectorProfileName="prof")


def test_every_operation_answers_the_status_the_docs_table_gives(emu: Any, client: Any) -> None:
    table = {name: int(status.split(",")[0]) for name, status in _docs_table("### Success statuses").items()}
    wire = Wire(client)
    _call_every_operation(emu, client)
    names = list(client.meta.service_model.operation_names)
    assert set(names) <= set(table), "docs/fidelity.md lists every operation"
    assert set(wire.seen) == set(names), "every operation was called"
    for name in names:
        statuses = {status for status, _ in wire.seen[name]}
        assert statuses == {table[name]}, name
        empty = "empty body" in _docs_table("### Success statuses")[name] or table[name] == 204
        bodies = {body for _, body in wire.seen[name]}
        assert (bodies == {b""}) == empty, (name, bodies)


# -- custom connectors -------------------------------------------------------------------------------

@pytest.mark.skipif(not has_operation("RegisterConnector"), reason="the installed model has no custom connectors")
def test_custom_connectors_are_reported_as_customconnector_registered_by_custom(client: Any) -> None:
    _custom_profile(client)
    config = client.describe_connector(connectorType="CustomConnector", connectorLabel="shop")["connectorConfiguration"]
    listed = client.list_connectors()["connectors"]
    described = client.describe_connectors(connectorTypes=["CustomConnector"])["connectors"]
    for item in [config, *listed, *described]:
        assert (item["connectorType"], item["registeredBy"]) == ("CUSTOMCONNECTOR", "CUSTOM")
        assert None not in item.values()


@pytest.mark.skipif(not has_operation("RegisterConnector"), reason="the installed model has no custom connectors")
def test_the_reported_spelling_is_not_valid_input(client: Any) -> None:
    _custom_profile(client)
    before = client.describe_connector_profiles()["connectorProfileDetails"]
    for call, kwargs in [
        (client.describe_connector, {"connectorType": "CUSTOMCONNECTOR", "connectorLabel": "shop"}),
        (client.describe_connectors, {"connectorTypes": ["CUSTOMCONNECTOR"]}),
        (client.create_connector_profile, {**profile_request("other", "Salesforce"), "connectorType": "CUSTOMCONNECTOR"}),
    ]:
        with pytest.raises(ClientError) as err:
            call(**kwargs)
        response = err.value.response
        assert (response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]) == ("ValidationException", 400)
        assert "Member must satisfy enum value set" in response["Error"]["Message"]
    assert client.describe_connector_profiles()["connectorProfileDetails"] == before


# -- run messages ------------------------------------------------------------------------------------

def _single_spaced(message: str) -> bool:
    return message == " ".join(message.split()) and MESSAGE_PATTERN.fullmatch(message) is not None


def test_a_missing_bucket_message_is_single_spaced_and_names_the_error_once(emu: Any, client: Any) -> None:
    emu.add_source_records("Salesforce", "Deal__c", DEALS)
    client.create_connector_profile(**profile_request("p", "Salesforce"))
    client.create_flow(
        flowName="no-bucket", triggerConfig={"triggerType": "OnDemand"},
        sourceFlowConfig={"connectorType": "Salesforce", "connectorProfileName": "p",
                          "sourceConnectorProperties": {"Salesforce": {"object": "Deal__c"}}},
        destinationFlowConfigList=[s3_destination("missing-bucket", "out", "JSON")], tasks=deal_tasks())
    message = run(client, "no-bucket")["executionResult"]["errorInfo"]["executionMessage"]
    assert _single_spaced(message), repr(message)
    assert message.count("NoSuchBucket") == 1 and message.count("missing-bucket") == 1
    assert message.count("does not exist") == 1


class _Raises:
    def __init__(self, text: str) -> None:
        self.text = text

    def read_records(self, entity: str, fields: Any, filters: Any = None) -> Any:
        raise RuntimeError(self.text)


@pytest.mark.skipif(not has_operation("RegisterConnector"), reason="the installed model has no custom connectors")
@settings(max_examples=40, deadline=None)
@given(text=st.text(alphabet=st.sampled_from(list(" \t\n(): ;'\"é<>{}[]/\\ab.-")), max_size=30))
def test_connector_failures_give_single_spaced_trimmed_messages(text: str) -> None:
    with mock_appflow() as emu:
        emu.create_bucket("out-bucket")
        client = boto3.client("appflow", region_name=REGION)
        _custom_profile(client)
        emu.register_connector_implementation("shop", _Raises(text))
        _custom_flow(client, "raises")
        execution = run(client, "raises")
    message = execution["executionResult"]["errorInfo"]["executionMessage"]
    assert execution["executionStatus"] == "Error"
    assert _single_spaced(message), repr(message)
    assert "RuntimeError" in message and "shop" in message


# -- timestamps ----------------------------------------------------------------------------------------

def test_only_update_flow_moves_last_updated_at(emu: Any, client: Any) -> None:
    emu.add_source_records("Salesforce", "Deal__c", DEALS)
    saas_flow(client, "stamped", "Salesforce", "Salesforce", "Deal__c", deal_tasks())
    saas_flow(client, "scheduled", "Salesforce", "Salesforce", "Deal__c", deal_tasks(), trigger={
        "triggerType": "Scheduled", "triggerProperties": {"Scheduled": {"scheduleExpression": "rate(1hours)"}}})

    def stamps(name: str) -> Any:
        described = client.describe_flow(flowName=name)
        [listed] = [f for f in client.list_flows()["flows"] if f["flowName"] == name]
        assert (listed["createdAt"], listed["lastUpdatedAt"]) == (described["createdAt"], described["lastUpdatedAt"])
        return described["createdAt"], described["lastUpdatedAt"]

    created, updated = stamps("stamped")
    assert created == updated
    assert created.microsecond % 1000 == 0  # millisecond precision
    arn = client.describe_flow(flowName="stamped")["flowArn"]
    emu.advance(60)
    client.tag_resource(resourceArn=arn, tags={"a": "b"})
    emu.advance(60)
    client.untag_resource(resourceArn=arn, tagKeys=["a"])
    emu.advance(60)
    run(client, "stamped")
    assert stamps("stamped") == (created, created)

    scheduled = stamps("scheduled")
    client.start_flow(flowName="scheduled")
    emu.advance(2 * 3600)  # scheduled runs
    client.stop_flow(flowName="scheduled")
    assert stamps("scheduled") == scheduled

    emu.advance(60)
    client.update_flow(flowName="stamped", triggerConfig={"triggerType": "OnDemand"},
                       sourceFlowConfig=client.describe_flow(flowName="stamped")["sourceFlowConfig"],
                       destinationFlowConfigList=[s3_destination("out-bucket", "out", "JSON")], tasks=deal_tasks())
    after_create, after_update = stamps("stamped")
    assert after_create == created
    assert after_update > created


# -- pushdown changes what is counted, never what is delivered ----------------------------------------

_NUMBER_FILTERS = st.sampled_from([
    ("LESS_THAN", "VALUE"), ("GREATER_THAN", "VALUE"), ("LESS_THAN_OR_EQUAL_TO", "VALUE"),
    ("GREATER_THAN_OR_EQUAL_TO", "VALUE"), ("EQUAL_TO", "VALUES"), ("NOT_EQUAL_TO", "VALUES"), ("BETWEEN", None)])


@settings(max_examples=25, deadline=None)
@given(values=st.lists(st.one_of(st.none(), st.integers(-5, 5)), max_size=8),
       chosen=st.lists(st.tuples(_NUMBER_FILTERS, st.integers(-5, 5), st.integers(-5, 5)), min_size=1, max_size=3))
def test_a_source_that_filters_delivers_what_one_that_does_not_delivers(values: List[Any], chosen: List[Any]) -> None:
    """Differential: the same records and filters through Salesforce (filters pushed down) and
    through S3 JSON lines (filters applied after reading) deliver the same records; only the
    counts differ."""
    records = [{"Id": str(i), "n": v} for i, v in enumerate(values)]

    def filters(member: str) -> List[Dict[str, Any]]:
        out = []
        for (operator, key), a, b in chosen:
            props = {"LOWER_BOUND": str(min(a, b)), "UPPER_BOUND": str(max(a, b))} if key is None else {key: str(a)}
            out.append(value_filter(member, operator, "n", "integer", **props))
        return out

    with mock_appflow() as emu:
        emu.create_bucket("out-bucket")
        emu.create_bucket("in-bucket")
        emu.put_object("in-bucket", "data/n.json", "".join(json.dumps(r) + "\n" for r in records))
        emu.add_source_records("Salesforce", "N__c", records)
        client = boto3.client("appflow", region_name=REGION)
        saas_flow(client, "pushed", "Salesforce", "Salesforce", "N__c",
                  [projection("Salesforce", "Id", "n"), *filters("Salesforce"), map_("Salesforce", "Id")])
        client.create_flow(flowName="local", triggerConfig={"triggerType": "OnDemand"},
                           sourceFlowConfig=s3_source("in-bucket", "data"),
                           destinationFlowConfigList=[s3_destination("out-bucket", "out", "JSON")],
                           tasks=[*filters("S3"), map_("S3", "Id")])
        pushed, local = run(client, "pushed"), run(client, "local")
        delivered = emu.destination_records("pushed", pushed["executionId"])
        assert delivered == emu.destination_records("local", local["executionId"])
    assert pushed["executionResult"]["recordsProcessed"] == len(delivered)
    assert local["executionResult"]["recordsProcessed"] == len(records)
