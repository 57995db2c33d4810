"""Built-in connector facts through boto3: for every connector type of the installed model, what
DescribeConnectors / DescribeConnector answer is what the one table of facts says, flows the answer
allows can be created and run, and flows it does not allow are rejected by CreateFlow/UpdateFlow.

Expectations that the model states are computed here from the model independently of the
emulator (capabilities, operators, write operations, enums); the invented facts are read from the
table in ``appflow_emu.catalog.connectors``, so changing a guess there moves answers and checks
together.
"""
from __future__ import annotations

import copy
import json
from typing import Any, Dict, List, Optional, Tuple

import pytest
from botocore.exceptions import ClientError

from appflow_emu.catalog import connectors as catalog
from appflow_emu.catalog.operators import TASK_OPERATORS
from appflow_emu.model.service import service_model
from tests.conftest import enum_params, enum_values, has_member, has_operation, when
from tests.helpers import PROFILE_CONFIGS, flow_request, s3_destination, s3_source

ACCOUNT = "123456789012"
LAMBDA_ARN = "arn:aws:lambda:us-east-1:123456789012:function:facts-connector"
# The 24 connector types of current models; a model without one skips its cases (enum_params), a
# model with a newer one adds it.
KNOWN_TYPES = [
    "Salesforce", "Singular", "Slack", "Redshift", "S3", "Marketo", "Googleanalytics", "Zendesk",
    "Servicenow", "Datadog", "Trendmicro", "Snowflake", "Dynatrace", "Infornexus", "Amplitude", "Veeva",
    "EventBridge", "LookoutMetrics", "Upsolver", "Honeycode", "CustomerProfiles", "SAPOData",
    "CustomConnector", "Pardot",
]
INSTALLED = enum_values("ConnectorType")
ALL_TYPES = list(dict.fromkeys(KNOWN_TYPES + INSTALLED))
ROWS = [{"id": "1", "name": "Ada"}, {"id": "2", "name": "Bob"}]
ENTITY = "facts_check"  # an entity no catalog knows: seeded unchecked (check_fields=False), as a user would
STAGE_BUCKET = "stage-bucket"
UPSOLVER_BUCKET = "upsolver-appflow-out"  # the model's pattern for Upsolver buckets
ENTITY_MEMBERS = ("object", "objectPath", "entityName")


# -- the model, read independently of the emulator --------------------------------------------------

def _members(shape: str) -> Dict[str, Any]:
    model = service_model()
    return dict(model.shape_for(shape).members) if shape in model.shape_names else {}  # type: ignore[attr-defined]


def member_for(container: str, ctype: str) -> Optional[str]:
    return next((m for m in _members(container) if m.lower() == ctype.lower()), None)


def is_source(ctype: str) -> bool:
    return member_for("SourceConnectorProperties", ctype) is not None


def is_destination(ctype: str) -> bool:
    return member_for("DestinationConnectorProperties", ctype) is not None


SOURCES = [t for t in INSTALLED if is_source(t)]
DESTINATIONS = [t for t in INSTALLED if is_destination(t)]


def model_operators(ctype: str) -> List[str]:
    member = member_for("ConnectorOperator", ctype)
    return list(_members("ConnectorOperator")[member].enum) if member else []


def model_write_operations(ctype: str) -> List[str]:
    member = member_for("DestinationConnectorProperties", ctype)
    shape = _members("DestinationConnectorProperties")[member] if member else None
    if shape is None or "writeOperationType" not in shape.members:
        return []
    return list(shape.members["writeOperationType"].enum)


# -- requests built from the model's required members -----------------------------------------------

# Values for members whose pattern or meaning a generic string does not fit.
VALUES: Dict[str, Any] = {
    "instanceUrl": "https://example.test", "bucketName": STAGE_BUCKET, "roleArn": f"arn:aws:iam::{ACCOUNT}:role/r",
    "warehouse": "WH", "stage": "DB.SCHEMA.STAGE", "applicationHostUrl": "https://sap.example.com",
    "applicationServicePath": "/sap/opu/odata/sap/API", "portNumber": 443, "clientNumber": "100",
    "authenticationType": "APIKEY", "intermediateBucketName": STAGE_BUCKET, "domainName": "facts-domain",
}
# Credentials the model leaves without required members but the service needs one of.
EXTRA_CREDENTIALS: Dict[str, Tuple[str, ...]] = {
    "Salesforce": ("accessToken",), "Honeycode": ("accessToken",), "Pardot": ("accessToken",),
    "ServiceNow": ("username", "password"), "SAPOData": ("basicAuthCredentials",),
    "CustomConnector": ("apiKey",),
}


def fill(shape: Any, extra: Tuple[str, ...] = ()) -> Any:
    """A value for ``shape``: structures get their required members (and ``extra`` ones)."""
    if shape.type_name == "structure":
        names = list(shape.required_members) + [m for m in extra if m not in shape.required_members]
        return {name: VALUES[name] if name in VALUES else fill(shape.members[name]) for name in names}
    if shape.type_name in ("integer", "long"):
        return int(shape.metadata.get("min", 1))
    if shape.type_name == "boolean":
        return False
    if shape.type_name == "list":
        return []
    if getattr(shape, "enum", None):
        return shape.enum[0]
    return f"v-{shape.name.lower()}"


def profile_config(ctype: str) -> Dict[str, Any]:
    if ctype in PROFILE_CONFIGS:
        return copy.deepcopy(PROFILE_CONFIGS[ctype])
    config: Dict[str, Any] = {}
    for container, key in (("ConnectorProfileProperties", "connectorProfileProperties"),
                            ("ConnectorProfileCredentials", "connectorProfileCredentials")):
        member = member_for(container, ctype)
        if member is not None:
            extra = EXTRA_CREDENTIALS.get(member, ()) if container == "ConnectorProfileCredentials" else ()
            config[key] = {member: fill(_members(container)[member], extra)}
    return config


def make_profile(client: Any, ctype: str, name: Optional[str] = None) -> Optional[str]:
    """A connector profile of ``ctype`` (registering a custom connector first), or None where the
    type takes no profile."""
    if member_for("ConnectorProfileProperties", ctype) is None:
        return None
    name = name or f"p-{ctype.lower()}"
    kwargs: Dict[str, Any] = {}
    if ctype == "CustomConnector":
        label = "facts-connector"
        if not [c for c in client.list_connectors()["connectors"] if c["connectorLabel"] == label]:
            client.register_connector(connectorLabel=label, connectorProvisioningType="LAMBDA",
                                      connectorProvisioningConfig={"lambda": {"lambdaArn": LAMBDA_ARN}})
        kwargs["connectorLabel"] = label
    client.create_connector_profile(connectorProfileName=name, connectorType=ctype, connectionMode="Public",
                                    connectorProfileConfig=profile_config(ctype), **kwargs)
    return name


def _with_entity(shape: Any, props: Dict[str, Any]) -> Dict[str, Any]:
    for member in ENTITY_MEMBERS:
        if member in shape.members:
            props[member] = ENTITY
    return props


def source_config(ctype: str, profile: Optional[str]) -> Dict[str, Any]:
    if ctype == "S3":
        return s3_source("in-bucket", "data")
    member = member_for("SourceConnectorProperties", ctype)
    assert member is not None
    shape = _members("SourceConnectorProperties")[member]
    out: Dict[str, Any] = {"connectorType": ctype,
                           "sourceConnectorProperties": {member: _with_entity(shape, fill(shape))}}
    if profile is not None:
        out["connectorProfileName"] = profile
    return out


def destination_config(ctype: str, profile: Optional[str]) -> Dict[str, Any]:
    if ctype == "S3":
        return s3_destination("out-bucket", "exports")
    member = member_for("DestinationConnectorProperties", ctype)
    assert member is not None
    shape = _members("DestinationConnectorProperties")[member]
    props = fill(shape)
    if "object" in shape.members:
        props["object"] = ENTITY
    for name in ("objectPath", "entityName"):
        if name in props:
            props[name] = ENTITY
    if "bucketName" in props:  # Upsolver
        props["bucketName"] = UPSOLVER_BUCKET
    out: Dict[str, Any] = {"connectorType": ctype, "destinationConnectorProperties": {member: props}}
    if profile is not None:
        out["connectorProfileName"] = profile
    return out


MAP_ALL: List[Dict[str, Any]] = [{"sourceFields": [], "taskType": "Map_all", "taskProperties": {}}]


def flow(name: str, source: str, destination: str, profiles: Dict[str, Optional[str]], **kw: Any) -> Dict[str, Any]:
    return flow_request(name, source=source_config(source, profiles.get(source)),
                        destination=destination_config(destination, profiles.get(destination)),
                        tasks=copy.deepcopy(MAP_ALL), **kw)


def expect_validation(call: Any, **kwargs: Any) -> str:
    with pytest.raises(ClientError) as exc_info:
        call(**kwargs)
    err = exc_info.value.response
    assert (err["Error"]["Code"], err["ResponseMetadata"]["HTTPStatusCode"]) == ("ValidationException", 400)
    return str(err["Error"]["Message"])


def all_profiles(client: Any) -> Dict[str, Optional[str]]:
    return {t: make_profile(client, t) for t in INSTALLED}


def configuration(client: Any, ctype: str) -> Dict[str, Any]:
    """DescribeConnectors' answer for ``ctype``, checked equal to DescribeConnector's."""
    listed = client.describe_connectors(connectorTypes=[ctype])["connectorConfigurations"]
    assert list(listed) == [ctype]
    if has_operation("DescribeConnector"):
        single = client.describe_connector(connectorType=ctype)["connectorConfiguration"]
        assert single == listed[ctype]
    return dict(listed[ctype])


def run_once(client: Any, emu: Any, name: str) -> Dict[str, Any]:
    execution_id = client.start_flow(flowName=name)["executionId"]
    records = client.describe_flow_execution_records(flowName=name)["flowExecutions"]
    return next(r for r in records if r["executionId"] == execution_id)


def seed(emu: Any, ctype: str, profile: Optional[str]) -> None:
    if ctype == "S3":
        emu.put_object("in-bucket", "data/rows.json", "".join(json.dumps(r) + "\n" for r in ROWS))
    else:
        emu.add_source_records(ctype, ENTITY, ROWS, check_fields=False)


def params(keep: Any) -> List[Any]:
    """enum_params over the connector types ``keep`` selects (by the installed model); types the
    installed model lacks stay in the list, each skipped with its reason."""
    return enum_params([t for t in ALL_TYPES if t not in INSTALLED or keep(t)])


BUILTIN_PARAMS = params(lambda t: t != "CustomConnector")
SOURCE_PARAMS = params(is_source)
DESTINATION_PARAMS = params(is_destination)
NON_SOURCE_PARAMS = params(lambda t: not is_source(t))
NON_DESTINATION_PARAMS = params(lambda t: not is_destination(t))


# -- the answers agree with the model and with the table ---------------------------------------------

@pytest.mark.parametrize("ctype", BUILTIN_PARAMS)
def test_configuration_follows_model_and_table(client, ctype):
    config = configuration(client, ctype)
    facts = catalog.facts(ctype)
    source, destination = is_source(ctype), is_destination(ctype)
    assert (config["canUseAsSource"], config["canUseAsDestination"]) == (source, destination)
    # Where the source may write: the table's guesses, limited to the model's destinations.
    wanted = catalog.SUPPORTED_DESTINATIONS.get(ctype, catalog.DEFAULT_DESTINATIONS)
    expected = [t for t in DESTINATIONS if catalog.EVERY_DESTINATION in wanted or t in wanted] if source else []
    assert config["supportedDestinationConnectors"] == expected
    assert list(facts.supported_destinations) == expected
    if source:
        assert "S3" in expected  # every source can land its data in S3
    # Frequencies: the model's enum from the minimum interval up.
    interval = catalog.MIN_SCHEDULE_INTERVAL.get(ctype, catalog.DEFAULT_MIN_SCHEDULE_INTERVAL)
    frequencies = [f for f in enum_values("ScheduleFrequencyType")
                   if catalog.FREQUENCY_PERIOD.get(f, interval) >= interval] if source else []
    assert config["supportedSchedulingFrequencies"] == frequencies
    assert ("ONCE" in frequencies) == source
    # Trigger types: every source is Scheduled and OnDemand; Event only where the table says.
    triggers = config["supportedTriggerTypes"]
    assert set(triggers) <= set(enum_values("TriggerType"))
    if source:
        assert {"Scheduled", "OnDemand"} <= set(triggers)
        assert ("Event" in triggers) == (ctype in catalog.EVENT_SOURCES)
    else:
        assert triggers == []
    assert config["isPrivateLinkEnabled"] is (ctype in catalog.PRIVATE_LINK)
    # Operators and write operations: the model's enums.
    if has_member("ConnectorConfiguration", "supportedOperators") and model_operators(ctype):
        assert config["supportedOperators"] == model_operators(ctype)
    else:
        assert "supportedOperators" not in config
    if has_member("ConnectorConfiguration", "supportedWriteOperations") and model_write_operations(ctype):
        assert config["supportedWriteOperations"] == model_write_operations(ctype)
    else:
        assert "supportedWriteOperations" not in config
    if has_member("ConnectorConfiguration", "supportedDataTransferTypes"):
        assert config["supportedDataTransferTypes"] == ["RECORD"]
    else:
        assert "supportedDataTransferTypes" not in config


@pytest.mark.parametrize("ctype", BUILTIN_PARAMS)
def test_connector_metadata_is_the_models_member(client, ctype):
    metadata = configuration(client, ctype)["connectorMetadata"]
    member = member_for("ConnectorMetadata", ctype)
    if member is None:
        assert metadata == {}
        return
    assert list(metadata) == [member]
    shape = _members("ConnectorMetadata")[member]
    filled = metadata[member]
    assert set(filled) <= set(shape.members)
    for name, values in filled.items():
        assert values and all(isinstance(v, str) and v for v in values), name
        items = shape.members[name].member
        if getattr(items, "enum", None):  # enum members are the whole enum
            assert values == list(items.enum)
        else:
            assert values == list(catalog.CONNECTOR_METADATA[ctype][name])
    for name in catalog.CONNECTOR_METADATA.get(ctype, {}):
        assert (name in filled) == (name in shape.members)  # a guess shows wherever the model has the member


def test_salesforce_metadata_and_data_transfer(client):
    config = configuration(client, "Salesforce")
    meta = config["connectorMetadata"]["Salesforce"]
    assert "api" in meta["oAuthScopes"]
    assert config["isPrivateLinkEnabled"] is True
    assert "Event" in config["supportedTriggerTypes"]
    if has_member("SalesforceMetadata", "dataTransferApis"):
        assert meta["dataTransferApis"] == ["AUTOMATIC", "BULKV2", "REST_SYNC"]
    else:
        assert "dataTransferApis" not in meta
    if has_member("ConnectorConfiguration", "supportedDataTransferApis"):
        assert config["supportedDataTransferApis"] == [
            {"Name": "AUTOMATIC", "Type": "AUTOMATIC"}, {"Name": "BULKV2", "Type": "ASYNC"},
            {"Name": "REST_SYNC", "Type": "SYNC"}]
        assert config["supportedApiVersions"] == list(catalog.SUPPORTED_API_VERSIONS["Salesforce"])
    else:
        assert "supportedDataTransferApis" not in config and "supportedApiVersions" not in config
    snowflake = configuration(client, "Snowflake")["connectorMetadata"]["Snowflake"]
    assert "us-east-1" in snowflake["supportedRegions"]
    slack = configuration(client, "Slack")
    assert slack["isPrivateLinkEnabled"] is False
    assert "supportedDataTransferApis" not in slack


@when(has_operation("RegisterConnector"), "no custom connector registrations")
def test_registered_connector_destinations_follow_the_table(client):
    make_profile(client, "CustomConnector")
    config = client.describe_connector(connectorType="CustomConnector",
                                       connectorLabel="facts-connector")["connectorConfiguration"]
    # [seen] AWS's captured DescribeConnector of a custom connector, in this order
    assert config["supportedDestinationConnectors"] == ["S3", "CustomConnector", "Salesforce"]
    assert config["supportedDestinationConnectors"] == list(catalog.facts("CustomConnector").supported_destinations)
    assert config["supportedTriggerTypes"] == list(catalog.facts("CustomConnector").trigger_types)


# -- flows the answers allow run; the others are rejected -------------------------------------------

@pytest.mark.parametrize("ctype", SOURCE_PARAMS)
def test_flow_from_connector_runs(client, appflow_mock, ctype):
    profile = make_profile(client, ctype)
    seed(appflow_mock, ctype, profile)
    client.create_flow(**flow("out", ctype, "S3", {ctype: profile}))
    record = run_once(client, appflow_mock, "out")
    assert record["executionStatus"] == "Successful", record
    assert record["executionResult"]["recordsProcessed"] == len(ROWS)
    delivered = appflow_mock.destination_records("out")
    assert sorted(str(r["id"]) for r in delivered) == ["1", "2"]


def _feeding_source(ctype: str) -> str:
    """S3 where it may write to ``ctype``, else the first source that may."""
    feeders = [s for s in SOURCES if ctype in catalog.facts(s).supported_destinations]
    assert feeders, f"no source may write to {ctype}"
    return "S3" if "S3" in feeders else feeders[0]


@pytest.mark.parametrize("ctype", DESTINATION_PARAMS)
def test_flow_to_connector_runs(client, appflow_mock, ctype):
    source = _feeding_source(ctype)
    appflow_mock.create_bucket(STAGE_BUCKET)
    appflow_mock.create_bucket(UPSOLVER_BUCKET)
    profiles = {ctype: make_profile(client, ctype)}
    if source != ctype:
        profiles[source] = make_profile(client, source)
    seed(appflow_mock, source, profiles[source])
    client.create_flow(**flow("in", source, ctype, profiles))
    record = run_once(client, appflow_mock, "in")
    assert record["executionStatus"] == "Successful", record
    assert record["executionResult"]["recordsProcessed"] == len(ROWS)
    delivered = appflow_mock.destination_records("in")
    assert sorted(str(r["id"]) for r in delivered) == ["1", "2"]


@pytest.mark.parametrize("ctype", NON_SOURCE_PARAMS)
def test_non_sources_are_rejected_as_source(client, ctype):
    # The model has no source properties for it: the request names it with S3's properties.
    req = flow_request("bad", source={"connectorType": ctype, "sourceConnectorProperties": s3_source()[
        "sourceConnectorProperties"]}, tasks=copy.deepcopy(MAP_ALL))
    text = expect_validation(client.create_flow, **req)
    assert text == f"Create Flow request failed: [Connector type {ctype} cannot be used as a source]"
    assert client.list_flows()["flows"] == []


@pytest.mark.parametrize("ctype", NON_DESTINATION_PARAMS)
def test_non_destinations_are_rejected_as_destination(client, ctype):
    dest = {"connectorType": ctype, "destinationConnectorProperties": s3_destination()["destinationConnectorProperties"]}
    text = expect_validation(client.create_flow, **flow_request("bad", destination=dest))
    assert text == f"Create Flow request failed: [Connector type {ctype} cannot be used as a destination]"
    assert client.list_flows()["flows"] == []


@pytest.mark.parametrize("ctype", SOURCE_PARAMS)
def test_destinations_follow_supported_destination_connectors(client, appflow_mock, ctype):
    """Every destination the source's answer lists is accepted by CreateFlow; every other
    destination is rejected by CreateFlow and by UpdateFlow, and nothing changes."""
    profiles = all_profiles(client)
    offered = configuration(client, ctype)["supportedDestinationConnectors"] if ctype != "CustomConnector" else \
        client.describe_connector(connectorType="CustomConnector",
                                  connectorLabel="facts-connector")["connectorConfiguration"][
            "supportedDestinationConnectors"]
    client.create_flow(**flow("base", ctype, "S3", profiles))
    before = client.describe_flow(flowName="base")
    rejected = [d for d in DESTINATIONS if d not in offered]
    for dest in rejected:
        req = flow(f"to-{dest.lower()}", ctype, dest, profiles)
        text = expect_validation(client.create_flow, **req)
        assert text == (f"Create Flow request failed: [Destination connector type {dest} is not supported "
                         f"for source connector type {ctype}]")
        update = {k: v for k, v in req.items() if k not in ("flowName", "tags")}
        text = expect_validation(client.update_flow, flowName="base", **update)
        assert text == (f"Update Flow request failed due to:[Destination connector type {dest} is not "
                        f"supported for source connector type {ctype}]")
    after = client.describe_flow(flowName="base")
    assert after["destinationFlowConfigList"] == before["destinationFlowConfigList"]
    assert [f["flowName"] for f in client.list_flows()["flows"]] == ["base"]
    for dest in offered:
        client.create_flow(**flow(f"ok-{dest.lower()}", ctype, dest, profiles))
    assert len(client.list_flows(maxResults=100)["flows"]) == 1 + len(offered)


def test_saas_sources_cannot_write_to_saas_applications(client):
    """A sample of the table's shape, stated outright so a wholesale change shows up."""
    profiles = all_profiles(client)
    text = expect_validation(client.create_flow, **flow("zd-sf", "Zendesk", "Salesforce", profiles))
    assert "Destination connector type Salesforce is not supported for source connector type Zendesk" in text
    client.create_flow(**flow("s3-sf", "S3", "Salesforce", profiles))
    client.create_flow(**flow("sf-eb", "Salesforce", "EventBridge", profiles))
    expect_validation(client.create_flow, **flow("sl-eb", "Slack", "EventBridge", profiles))


# -- trigger types, frequencies and operators read the same table ----------------------------------

SCHEDULES = [("BYMINUTE", "rate(1 minute)"), ("HOURLY", "rate(1 hour)"), ("DAILY", "rate(1 day)")]


@pytest.mark.parametrize("ctype", SOURCE_PARAMS)
def test_triggers_and_frequencies_follow_the_answer(client, ctype):
    profile = make_profile(client, ctype)
    facts = catalog.facts(ctype)
    if ctype == "CustomConnector":
        config = client.describe_connector(connectorType=ctype, connectorLabel="facts-connector")[
            "connectorConfiguration"]
    else:
        config = configuration(client, ctype)
    assert config["supportedTriggerTypes"] == list(facts.trigger_types)
    profiles = {ctype: profile}
    for trigger in enum_values("TriggerType"):
        req = flow(f"t-{trigger.lower()}", ctype, "S3", profiles, trigger=trigger, schedule="rate(1 day)")
        if trigger in config["supportedTriggerTypes"]:
            client.create_flow(**req)
        else:
            text = expect_validation(client.create_flow, **req)
            assert text == (f"Create Flow request failed: [Trigger type {trigger} is not supported for source "
                            f"connector {ctype}]")
    for frequency, expression in SCHEDULES:
        req = flow(f"s-{frequency.lower()}", ctype, "S3", profiles, trigger="Scheduled", schedule=expression)
        if frequency in config["supportedSchedulingFrequencies"]:
            client.create_flow(**req)
        else:
            text = expect_validation(client.create_flow, **req)
            assert "runs more often than the minimum interval" in text


def _task_for(member: str, operator: str) -> Dict[str, Any]:
    task_type = next((t for t, ops in TASK_OPERATORS.items() if operator in ops), "Map")
    task: Dict[str, Any] = {"sourceFields": ["id"], "connectorOperator": {member: operator}, "taskType": task_type,
                            "taskProperties": {}}
    if task_type == "Map":
        task["destinationField"] = "id"
    return task


@pytest.mark.parametrize("ctype", SOURCE_PARAMS)
def test_operators_follow_the_answer(client, ctype):
    profile = make_profile(client, ctype)
    facts = catalog.facts(ctype)
    supported = list(facts.operators)
    if has_member("ConnectorConfiguration", "supportedOperators") and ctype != "CustomConnector":
        assert configuration(client, ctype)["supportedOperators"] == supported
    member = member_for("ConnectorOperator", ctype)
    assert member is not None
    all_operators = enum_values("Operator") or enum_values("Operators")
    assert set(supported) <= set(all_operators) and supported == model_operators(ctype)
    accepted: List[str] = []
    for i, operator in enumerate(all_operators):
        req = flow(f"op-{i}", ctype, "S3", {ctype: profile})
        req["tasks"] = copy.deepcopy(MAP_ALL) + [_task_for(member, operator)]
        try:
            client.create_flow(**req)
        except ClientError as e:
            assert e.response["Error"]["Code"] == "ValidationException"
        else:
            accepted.append(operator)
    assert accepted == [op for op in all_operators if op in supported]
