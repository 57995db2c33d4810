"""The connector catalog and custom connector registrations through boto3: DescribeConnectors,
ListConnectors, DescribeConnector, ListConnectorEntities, DescribeConnectorEntity,
ResetConnectorMetadataCache, RegisterConnector, UpdateConnectorRegistration, UnregisterConnector.
"""
from __future__ import annotations

import datetime as dt
import time
from typing import Any, Dict, List

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from appflow_emu.model.service import service_model
from tests.conftest import has_member, has_operation, has_shape, member_meta, requires_member, requires_operation
from tests.helpers import expect_error, profile_request

ACCOUNT = "123456789012"
LAMBDA_ARN = "arn:aws:lambda:us-east-1:123456789012:function:my-connector"
LAMBDA_ARN_2 = "arn:aws:lambda:us-east-1:123456789012:function:my-connector-v2"
ALL_TYPES: List[str] = list(service_model().shape_for("ConnectorType").enum)  # type: ignore[attr-defined]
BUILTIN_TYPES = [t for t in ALL_TYPES if t != "CustomConnector"]
TRIGGER_TYPES = {"Scheduled", "Event", "OnDemand"}
FREQUENCIES = set(service_model().shape_for("ScheduleFrequencyType").enum)  # type: ignore[attr-defined]

# Operations and members that older botocores' AppFlow models do not have.
needs_registration = requires_operation("RegisterConnector", "ListConnectors", "DescribeConnector",
                                        "UpdateConnectorRegistration", "UnregisterConnector")
needs_describe_connector = requires_operation("DescribeConnector")
needs_reset_cache = requires_operation("ResetConnectorMetadataCache")
needs_describe_paging = requires_member("DescribeConnectorsRequest", "maxResults")
needs_entity_paging = requires_member("ListConnectorEntitiesRequest", "maxResults", "nextToken")


def raw_client(region: str = "us-east-1") -> Any:
    return boto3.client("appflow", region_name=region, config=Config(parameter_validation=False))


def register(client: Any, label: str, description: str = "", lambda_arn: str = LAMBDA_ARN) -> Dict[str, Any]:
    kwargs: Dict[str, Any] = {
        "connectorLabel": label,
        "connectorProvisioningType": "LAMBDA",
        "connectorProvisioningConfig": {"lambda": {"lambdaArn": lambda_arn}},
    }
    if description:
        kwargs["description"] = description
    return dict(client.register_connector(**kwargs))


def custom_profile(client: Any, name: str, label: str) -> None:
    client.create_connector_profile(
        connectorProfileName=name, connectorType="CustomConnector", connectorLabel=label, connectionMode="Public",
        connectorProfileConfig={
            "connectorProfileProperties": {"CustomConnector": {}},
            "connectorProfileCredentials": {"CustomConnector": {"authenticationType": "APIKEY",
                                                                "apiKey": {"apiKey": "k-secret-123"}}},
        },
    )


def labels(client: Any) -> List[str]:
    out: List[str] = []
    kwargs: Dict[str, Any] = {}
    while True:
        page = client.list_connectors(**kwargs)
        out += [c["connectorLabel"] for c in page["connectors"]]
        if "nextToken" not in page:
            return out
        kwargs["nextToken"] = page["nextToken"]


def one_configuration(client: Any, ctype: str) -> Dict[str, Any]:
    """One connector's configuration: DescribeConnector where the model has it."""
    if has_operation("DescribeConnector"):
        return dict(client.describe_connector(connectorType=ctype)["connectorConfiguration"])
    return dict(client.describe_connectors(connectorTypes=[ctype])["connectorConfigurations"][ctype])


def all_configurations(client: Any, **kwargs: Any) -> Dict[str, Any]:
    configs: Dict[str, Any] = {}
    connectors: List[Dict[str, Any]] = []
    while True:
        page = client.describe_connectors(**kwargs)
        overlap = set(configs) & set(page["connectorConfigurations"])
        assert not overlap, f"repeated across pages: {overlap}"
        configs.update(page["connectorConfigurations"])
        connectors += page.get("connectors", [])
        if "nextToken" not in page:
            return {"configs": configs, "connectors": connectors}
        kwargs["nextToken"] = page["nextToken"]


# -- DescribeConnectors ------------------------------------------------------------------------

def test_describe_connectors_covers_every_builtin_type(client):
    first = client.describe_connectors()
    assert len(first["connectorConfigurations"]) == 20  # the default page
    assert "nextToken" in first
    everything = all_configurations(client)
    assert sorted(everything["configs"]) == sorted(BUILTIN_TYPES)
    assert everything["connectors"] == []  # nothing registered in a fresh account
    for ctype, config in everything["configs"].items():
        if has_member("ConnectorConfiguration", "connectorType"):
            assert config["connectorType"] == ctype
        else:
            assert "connectorType" not in config  # not in the installed model: pruned
        assert isinstance(config["canUseAsSource"], bool) and isinstance(config["canUseAsDestination"], bool)
        assert config["canUseAsSource"] or config["canUseAsDestination"], ctype
        assert set(config["supportedTriggerTypes"]) <= TRIGGER_TYPES
        assert set(config["supportedSchedulingFrequencies"]) <= FREQUENCIES
        assert set(config["supportedDestinationConnectors"]) <= set(ALL_TYPES)
        if config["canUseAsSource"]:
            assert {"Scheduled", "OnDemand"} <= set(config["supportedTriggerTypes"])
            assert config["supportedDestinationConnectors"]
        else:
            assert config["supportedTriggerTypes"] == []


@pytest.mark.parametrize("ctype, source, destination", [
    ("Salesforce", True, True),
    ("S3", True, True),
    ("Zendesk", True, True),
    ("Slack", True, False),
    ("Servicenow", True, False),
    ("Redshift", False, True),
    ("Snowflake", False, True),
    ("EventBridge", False, True),
])
def test_capabilities_follow_the_model(client, ctype, source, destination):
    config = client.describe_connectors(connectorTypes=[ctype])["connectorConfigurations"][ctype]
    assert (config["canUseAsSource"], config["canUseAsDestination"]) == (source, destination)
    if has_operation("DescribeConnector"):
        single = client.describe_connector(connectorType=ctype)["connectorConfiguration"]
        assert single == config


def test_destinations_offered_are_destinations(client):
    configs = all_configurations(client)["configs"]
    for ctype in configs["Salesforce"]["supportedDestinationConnectors"]:
        if ctype in configs:
            assert configs[ctype]["canUseAsDestination"], ctype
    assert "S3" in configs["Salesforce"]["supportedDestinationConnectors"]
    assert "Slack" not in configs["Salesforce"]["supportedDestinationConnectors"]


def test_salesforce_supports_event_triggers_and_writes(client):
    config = one_configuration(client, "Salesforce")
    assert "Event" in config["supportedTriggerTypes"]
    if has_member("ConnectorConfiguration", "supportedWriteOperations"):
        assert {"INSERT", "UPSERT", "UPDATE", "DELETE"} <= set(config["supportedWriteOperations"])
    else:
        assert "supportedWriteOperations" not in config
    if has_member("ConnectorConfiguration", "supportedOperators"):
        assert "PROJECTION" in config["supportedOperators"]
    else:
        assert "supportedOperators" not in config
    slack = one_configuration(client, "Slack")
    assert "Event" not in slack["supportedTriggerTypes"]


def test_minimum_schedule_interval_shows_in_frequencies(client):
    configs = client.describe_connectors(connectorTypes=["Zendesk", "Marketo", "Amplitude"])["connectorConfigurations"]
    assert "BYMINUTE" in configs["Zendesk"]["supportedSchedulingFrequencies"]
    assert "BYMINUTE" not in configs["Marketo"]["supportedSchedulingFrequencies"]
    assert "HOURLY" in configs["Marketo"]["supportedSchedulingFrequencies"]
    assert "HOURLY" not in configs["Amplitude"]["supportedSchedulingFrequencies"]
    assert "DAILY" in configs["Amplitude"]["supportedSchedulingFrequencies"]


def test_describe_connectors_filter(client):
    out = client.describe_connectors(connectorTypes=["S3", "Zendesk"])
    assert sorted(out["connectorConfigurations"]) == ["S3", "Zendesk"]
    assert out.get("connectors", []) == []
    assert "nextToken" not in out


@needs_describe_paging
def test_describe_connectors_pagination(client):
    seen: List[str] = []
    sizes: List[int] = []
    kwargs: Dict[str, Any] = {"maxResults": 7}
    while True:
        page = client.describe_connectors(**kwargs)
        sizes.append(len(page["connectorConfigurations"]) + len(page.get("connectors", [])))
        seen += list(page["connectorConfigurations"])
        if "nextToken" not in page:
            break
        kwargs["nextToken"] = page["nextToken"]
    assert sizes == [7, 7, 7, 2]
    assert sorted(seen) == sorted(BUILTIN_TYPES) and len(seen) == len(set(seen))
    out = client.describe_connectors(maxResults=100)
    assert len(out["connectorConfigurations"]) == len(BUILTIN_TYPES) and "nextToken" not in out


@needs_registration
def test_describe_connectors_includes_registered_connectors(client):
    register(client, "acme")
    register(client, "globex")
    everything = all_configurations(client)
    assert sorted(c["connectorLabel"] for c in everything["connectors"]) == ["acme", "globex"]
    assert "CustomConnector" not in everything["configs"]
    only_custom = client.describe_connectors(connectorTypes=["CustomConnector"])
    assert only_custom["connectorConfigurations"] == {}
    assert [c["connectorLabel"] for c in only_custom["connectors"]] == ["acme", "globex"]
    for c in only_custom["connectors"]:
        assert c["connectorType"] == "CUSTOMCONNECTOR"  # [seen*] the answer's spelling
    only_s3 = client.describe_connectors(connectorTypes=["S3"])
    assert only_s3.get("connectors", []) == []


@needs_describe_paging
def test_describe_connectors_max_results_validation(client):
    raw = raw_client()
    msg = expect_error(raw.describe_connectors, "ValidationException", 400, maxResults=0)
    assert msg == ("1 validation error detected: Value '0' at 'maxResults' failed to satisfy constraint: "
                   "Member must have value greater than or equal to 1")
    msg = expect_error(client.describe_connectors, "ValidationException", 400, maxResults=101)
    assert msg == ("1 validation error detected: Value '101' at 'maxResults' failed to satisfy constraint: "
                   "Member must have value less than or equal to 100")


def test_describe_connectors_validation(client):
    msg = expect_error(client.describe_connectors, "ValidationException", 400, connectorTypes=["S3", "Bogus"])
    assert msg.startswith("1 validation error detected: Value 'Bogus' at 'connectorTypes.2.member' "
                          "failed to satisfy constraint: Member must satisfy enum value set: [Salesforce, ")
    msg = expect_error(client.describe_connectors, "ValidationException", 400,
                       connectorTypes=["S3"] * 101)
    assert "at 'connectorTypes' failed to satisfy constraint: Member must have length less than or equal to 100" in msg
    expect_error(client.describe_connectors, "ValidationException", 400, nextToken="not-a-token")
    msg = expect_error(client.describe_connectors, "ValidationException", 400, nextToken="x" * 2049)
    assert "Member must have length less than or equal to 2048" in msg


def test_describe_connectors_rejects_other_listings_tokens(client):
    for i in range(3):
        client.create_connector_profile(**profile_request(f"p{i}"))
    token = client.describe_connector_profiles(maxResults=1)["nextToken"]
    expect_error(client.describe_connectors, "ValidationException", 400, nextToken=token)


# -- DescribeConnector -------------------------------------------------------------------------

@needs_describe_connector
def test_describe_connector_builtin(client):
    config = client.describe_connector(connectorType="Zendesk")["connectorConfiguration"]
    assert config["connectorType"] == "Zendesk"
    assert config["canUseAsSource"] and config["canUseAsDestination"]
    # A label is only meaningful for custom connectors.
    again = client.describe_connector(connectorType="Zendesk", connectorLabel="ignored")["connectorConfiguration"]
    assert again == config


@needs_registration
def test_describe_connector_custom(client, monkeypatch):
    monkeypatch.setattr(time, "time", lambda: 1_700_000_000.0)
    arn = register(client, "acme", description="Acme CRM")["connectorArn"]
    config = client.describe_connector(connectorType="CustomConnector", connectorLabel="acme")["connectorConfiguration"]
    assert config["connectorType"] == "CUSTOMCONNECTOR"  # [seen*] not the enum's spelling
    assert config["registeredBy"] == "CUSTOM"
    assert config["connectorLabel"] == "acme"
    assert config["connectorArn"] == arn
    assert config["connectorDescription"] == "Acme CRM"
    assert config["connectorProvisioningType"] == "LAMBDA"
    assert config["connectorProvisioningConfig"] == {"lambda": {"lambdaArn": LAMBDA_ARN}}
    assert config["registeredAt"] == dt.datetime(2023, 11, 14, 22, 13, 20, tzinfo=dt.timezone.utc)
    assert config["connectorVersion"]
    # The generic members every configuration has.
    assert config["connectorName"] == "acme"
    assert config["canUseAsSource"] is True and config["canUseAsDestination"] is True
    assert {"Scheduled", "OnDemand"} <= set(config["supportedTriggerTypes"])
    assert config["supportedSchedulingFrequencies"] and set(config["supportedSchedulingFrequencies"]) <= FREQUENCIES
    assert config["isPrivateLinkEnabled"] is False


@needs_registration
def test_describe_connector_unknown_label_is_not_found(client):
    register(client, "acme")
    msg = expect_error(client.describe_connector, "ResourceNotFoundException", 404,
                       connectorType="CustomConnector", connectorLabel="ghost")
    assert "ghost" in msg


@needs_describe_connector
def test_describe_custom_connector_without_label(client):
    expect_error(client.describe_connector, "ValidationException", 400, connectorType="CustomConnector")


@needs_describe_connector
def test_describe_connector_validation(client):
    msg = expect_error(client.describe_connector, "ValidationException", 400, connectorType="Nope")
    assert msg.startswith("1 validation error detected: Value 'Nope' at 'connectorType' failed to satisfy "
                          "constraint: Member must satisfy enum value set: [")
    msg = expect_error(client.describe_connector, "ValidationException", 400,
                       connectorType="CustomConnector", connectorLabel="-bad")
    assert msg == ("1 validation error detected: Value '-bad' at 'connectorLabel' failed to satisfy constraint: "
                   r"Member must satisfy regular expression pattern: [a-zA-Z0-9][\w!@#.-]+")
    msg = expect_error(raw_client().describe_connector, "ValidationException", 400)
    assert msg == ("1 validation error detected: Value null at 'connectorType' failed to satisfy constraint: "
                   "Member must not be null")


# -- RegisterConnector / ListConnectors ----------------------------------------------------------

@needs_registration
def test_register_then_list(client, monkeypatch):
    assert client.list_connectors()["connectors"] == []
    monkeypatch.setattr(time, "time", lambda: 1_700_000_000.0)
    out = register(client, "acme", description="Acme CRM connector")
    assert out["connectorArn"] == f"arn:aws:appflow:us-east-1:{ACCOUNT}:connector/acme"
    [c] = client.list_connectors()["connectors"]
    assert c["connectorLabel"] == "acme"
    assert c["connectorType"] == "CUSTOMCONNECTOR"
    assert c["connectorDescription"] == "Acme CRM connector"
    assert c["connectorProvisioningType"] == "LAMBDA"
    assert c["registeredAt"] == dt.datetime(2023, 11, 14, 22, 13, 20, tzinfo=dt.timezone.utc)
    assert c["registeredBy"] == "CUSTOM"  # [seen*]
    assert c["connectorVersion"]


@needs_registration
def test_register_duplicate_is_a_conflict(client):
    register(client, "acme", description="first")
    msg = expect_error(client.register_connector, "ConflictException", 409, connectorLabel="acme",
                       description="second", connectorProvisioningType="LAMBDA",
                       connectorProvisioningConfig={"lambda": {"lambdaArn": LAMBDA_ARN_2}})
    assert "acme" in msg
    [c] = client.list_connectors()["connectors"]
    assert c["connectorDescription"] == "first"
    config = client.describe_connector(connectorType="CustomConnector", connectorLabel="acme")["connectorConfiguration"]
    assert config["connectorProvisioningConfig"] == {"lambda": {"lambdaArn": LAMBDA_ARN}}


@needs_registration
def test_register_needs_a_label_and_a_lambda(client, appflow_mock):
    expect_error(client.register_connector, "ValidationException", 400,
                 connectorProvisioningType="LAMBDA",
                 connectorProvisioningConfig={"lambda": {"lambdaArn": LAMBDA_ARN}})
    expect_error(client.register_connector, "ValidationException", 400,
                 connectorLabel="acme", connectorProvisioningType="LAMBDA")
    expect_error(client.register_connector, "ValidationException", 400,
                 connectorLabel="acme", connectorProvisioningType="LAMBDA", connectorProvisioningConfig={})
    msg = expect_error(raw_client().register_connector, "ValidationException", 400,
                       connectorLabel="acme", connectorProvisioningConfig={"lambda": {}})
    assert msg == ("1 validation error detected: Value null at 'connectorProvisioningConfig.lambda.lambdaArn' "
                   "failed to satisfy constraint: Member must not be null")
    assert client.list_connectors()["connectors"] == []
    assert len(appflow_mock.state("us-east-1").registered_connectors) == 0


@needs_registration
@pytest.mark.parametrize("change, expected", [
    ({"connectorLabel": "-acme"},
     "1 validation error detected: Value '-acme' at 'connectorLabel' failed to satisfy constraint: "
     r"Member must satisfy regular expression pattern: [a-zA-Z0-9][\w!@#.-]+"),
    ({"connectorLabel": "a" * 257},
     f"1 validation error detected: Value '{'a' * 257}' at 'connectorLabel' failed to satisfy constraint: "
     "Member must have length less than or equal to 256"),
    ({"description": "d" * 1025},
     f"1 validation error detected: Value '{'d' * 1025}' at 'description' failed to satisfy constraint: "
     "Member must have length less than or equal to 1024"),
    ({"description": "no <html>"},
     "1 validation error detected: Value 'no <html>' at 'description' failed to satisfy constraint: "
     r"Member must satisfy regular expression pattern: [\s\w/!@#+=.-]*"),
    ({"connectorProvisioningType": "CONTAINER"},
     "1 validation error detected: Value 'CONTAINER' at 'connectorProvisioningType' failed to satisfy "
     "constraint: Member must satisfy enum value set: [LAMBDA]"),
    ({"connectorProvisioningConfig": {"lambda": {"lambdaArn": "not-an-arn"}}},
     "1 validation error detected: Value 'not-an-arn' at 'connectorProvisioningConfig.lambda.lambdaArn' "
     "failed to satisfy constraint: Member must satisfy regular expression pattern: arn:aws:.*:.*:[0-9]+:.*"),
])
@needs_registration
def test_register_rejects_bad_input(client, appflow_mock, change, expected):
    kwargs: Dict[str, Any] = {"connectorLabel": "acme", "connectorProvisioningType": "LAMBDA",
                              "connectorProvisioningConfig": {"lambda": {"lambdaArn": LAMBDA_ARN}}}
    kwargs.update(change)
    msg = expect_error(client.register_connector, "ValidationException", 400, **kwargs)
    assert msg == expected
    assert client.list_connectors()["connectors"] == []
    assert len(appflow_mock.state("us-east-1").registered_connectors) == 0


@needs_registration
def test_register_quota(client, appflow_mock):
    appflow_mock.set_quota("custom_connectors", 2)
    register(client, "c1")
    register(client, "c2")
    expect_error(client.register_connector, "ServiceQuotaExceededException", 402, connectorLabel="c3",
                 connectorProvisioningType="LAMBDA", connectorProvisioningConfig={"lambda": {"lambdaArn": LAMBDA_ARN}})
    assert labels(client) == ["c1", "c2"]
    client.unregister_connector(connectorLabel="c1")
    register(client, "c3")
    assert labels(client) == ["c2", "c3"]


@needs_registration
def test_list_connectors_pagination(client):
    created = [f"conn{i}" for i in range(5)]
    for label in created:
        register(client, label)
    first = client.list_connectors(maxResults=2)
    assert [c["connectorLabel"] for c in first["connectors"]] == created[:2]
    assert labels(client) == created
    pages = []
    kwargs: Dict[str, Any] = {"maxResults": 2}
    while True:
        page = client.list_connectors(**kwargs)
        pages.append([c["connectorLabel"] for c in page["connectors"]])
        if "nextToken" not in page:
            break
        kwargs["nextToken"] = page["nextToken"]
    assert pages == [["conn0", "conn1"], ["conn2", "conn3"], ["conn4"]]


@needs_registration
def test_list_connectors_validation(client):
    register(client, "acme")
    expect_error(client.list_connectors, "ValidationException", 400, nextToken="bogus")
    token = client.describe_connectors(maxResults=1)["nextToken"]
    expect_error(client.list_connectors, "ValidationException", 400, nextToken=token)
    msg = expect_error(client.list_connectors, "ValidationException", 400, maxResults=101)
    assert "Member must have value less than or equal to 100" in msg
    msg = expect_error(raw_client().list_connectors, "ValidationException", 400, maxResults=0)
    assert "Member must have value greater than or equal to 1" in msg


# -- UpdateConnectorRegistration ------------------------------------------------------------------

@needs_registration
def test_update_registration(client):
    arn = register(client, "acme", description="v1")["connectorArn"]
    before = client.describe_connector(connectorType="CustomConnector", connectorLabel="acme")["connectorConfiguration"]
    out = client.update_connector_registration(
        connectorLabel="acme", description="v2",
        connectorProvisioningConfig={"lambda": {"lambdaArn": LAMBDA_ARN_2}})
    assert out["connectorArn"] == arn
    after = client.describe_connector(connectorType="CustomConnector", connectorLabel="acme")["connectorConfiguration"]
    assert after["connectorDescription"] == "v2"
    assert after["connectorProvisioningConfig"] == {"lambda": {"lambdaArn": LAMBDA_ARN_2}}
    assert after["connectorVersion"] != before["connectorVersion"]
    assert after["registeredAt"] == before["registeredAt"]
    [c] = client.list_connectors()["connectors"]
    assert c["connectorDescription"] == "v2" and c["connectorVersion"] == after["connectorVersion"]


@needs_registration
def test_update_registration_description_only_keeps_the_lambda(client):
    register(client, "acme", description="v1")
    client.update_connector_registration(connectorLabel="acme", description="v2")
    config = client.describe_connector(connectorType="CustomConnector", connectorLabel="acme")["connectorConfiguration"]
    assert config["connectorProvisioningConfig"] == {"lambda": {"lambdaArn": LAMBDA_ARN}}
    assert config["connectorDescription"] == "v2"


@needs_registration
def test_update_registration_unknown_label(client):
    msg = expect_error(client.update_connector_registration, "ResourceNotFoundException", 404,
                       connectorLabel="ghost", description="x")
    assert "ghost" in msg
    assert client.list_connectors()["connectors"] == []


@needs_registration
def test_update_registration_bad_input_changes_nothing(client):
    register(client, "acme", description="v1")
    before = client.describe_connector(connectorType="CustomConnector", connectorLabel="acme")["connectorConfiguration"]
    msg = expect_error(client.update_connector_registration, "ValidationException", 400,
                       connectorLabel="acme", description="d" * 1025)
    assert "at 'description' failed to satisfy constraint: Member must have length less than or equal to 1024" in msg
    msg = expect_error(client.update_connector_registration, "ValidationException", 400,
                       connectorLabel="acme", connectorProvisioningConfig={"lambda": {"lambdaArn": "nope"}})
    assert "at 'connectorProvisioningConfig.lambda.lambdaArn'" in msg
    msg = expect_error(raw_client().update_connector_registration, "ValidationException", 400, description="x")
    assert msg == ("1 validation error detected: Value null at 'connectorLabel' failed to satisfy constraint: "
                   "Member must not be null")
    after = client.describe_connector(connectorType="CustomConnector", connectorLabel="acme")["connectorConfiguration"]
    assert after == before


# -- UnregisterConnector -----------------------------------------------------------------------

@needs_registration
def test_unregister(client, appflow_mock):
    register(client, "acme")
    out = client.unregister_connector(connectorLabel="acme")
    assert out["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert client.list_connectors()["connectors"] == []
    assert "acme" not in appflow_mock.state("us-east-1").registered_connectors
    expect_error(client.describe_connector, "ResourceNotFoundException", 404,
                 connectorType="CustomConnector", connectorLabel="acme")
    # The label can be registered again.
    register(client, "acme")
    assert labels(client) == ["acme"]


@needs_registration
def test_unregister_unknown_label(client):
    expect_error(client.unregister_connector, "ResourceNotFoundException", 404, connectorLabel="ghost")
    register(client, "acme")
    client.unregister_connector(connectorLabel="acme")
    expect_error(client.unregister_connector, "ResourceNotFoundException", 404, connectorLabel="acme")


@needs_registration
def test_unregister_in_use_is_a_conflict_unless_forced(client):
    register(client, "acme")
    custom_profile(client, "cp", "acme")
    msg = expect_error(client.unregister_connector, "ConflictException", 409, connectorLabel="acme")
    assert "acme" in msg
    assert labels(client) == ["acme"]
    expect_error(client.unregister_connector, "ConflictException", 409, connectorLabel="acme", forceDelete=False)
    client.unregister_connector(connectorLabel="acme", forceDelete=True)
    assert labels(client) == []
    # New profiles for the label now need it registered again.
    with pytest.raises(ClientError) as exc_info:
        custom_profile(client, "cp2", "acme")
    assert exc_info.value.response["Error"]["Message"] == (
        "Connector:acme is not registered. Please register it first before creating ConnectorProfile.")


@needs_registration
def test_unregister_after_profile_deleted(client):
    register(client, "acme")
    custom_profile(client, "cp", "acme")
    client.delete_connector_profile(connectorProfileName="cp")
    client.unregister_connector(connectorLabel="acme")
    assert labels(client) == []


@needs_registration
def test_unregister_validation(client):
    register(client, "acme")
    msg = expect_error(client.unregister_connector, "ValidationException", 400, connectorLabel="bad label")
    assert msg == ("1 validation error detected: Value 'bad label' at 'connectorLabel' failed to satisfy "
                   r"constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9][\w!@#.-]+")
    msg = expect_error(raw_client().unregister_connector, "ValidationException", 400, connectorLabel="acme",
                       forceDelete="true")
    assert "Member must be of type boolean" in msg
    assert labels(client) == ["acme"]


# -- entities and the metadata cache ---------------------------------------------------------------

@pytest.fixture
def zendesk(client):
    client.create_connector_profile(**profile_request("zd"))
    return "zd"


def test_list_connector_entities_shape(client, zendesk):
    out = client.list_connector_entities(connectorProfileName=zendesk)
    assert isinstance(out["connectorEntityMap"], dict)
    for entities in out["connectorEntityMap"].values():
        for e in entities:
            assert e["name"] and isinstance(e.get("hasNestedEntities", False), bool)
    by_type = client.list_connector_entities(connectorType="S3")
    assert isinstance(by_type["connectorEntityMap"], dict)


def test_list_connector_entities_errors(client, zendesk):
    msg = expect_error(client.list_connector_entities, "ResourceNotFoundException", 404, connectorProfileName="ghost")
    assert msg == "Connector Profile with name ghost does not exist."
    expect_error(client.list_connector_entities, "ValidationException", 400)
    msg = expect_error(client.list_connector_entities, "ValidationException", 400,
                       connectorProfileName=zendesk, entitiesPath="bad|path")
    assert msg == ("1 validation error detected: Value 'bad|path' at 'entitiesPath' failed to satisfy constraint: "
                   "Member must satisfy regular expression pattern: "
                   + member_meta("ListConnectorEntitiesRequest", "entitiesPath", "pattern"))
    msg = expect_error(client.list_connector_entities, "ValidationException", 400, connectorType="Nope")
    assert "Member must satisfy enum value set" in msg


@needs_entity_paging
@requires_member("ListConnectorEntitiesRequest", "apiVersion")
def test_list_connector_entities_paging_and_version_validation(client, zendesk):
    msg = expect_error(client.list_connector_entities, "ValidationException", 400,
                       connectorProfileName=zendesk, maxResults=10001)
    assert msg == ("1 validation error detected: Value '10001' at 'maxResults' failed to satisfy constraint: "
                   "Member must have value less than or equal to 10000")
    msg = expect_error(client.list_connector_entities, "ValidationException", 400,
                       connectorProfileName=zendesk, apiVersion="v 1")
    assert "at 'apiVersion'" in msg


def test_describe_connector_entity_shape(client, zendesk):
    out = client.describe_connector_entity(connectorProfileName=zendesk, connectorEntityName="tickets")
    assert isinstance(out["connectorEntityFields"], list)
    for f in out["connectorEntityFields"]:
        assert f["identifier"]
        assert "v1" in f["supportedFieldTypeDetails"]


def test_describe_connector_entity_errors(client, zendesk):
    msg = expect_error(client.describe_connector_entity, "ResourceNotFoundException", 404,
                       connectorProfileName="ghost", connectorEntityName="tickets")
    assert msg == "Connector Profile with name ghost does not exist."
    expect_error(client.describe_connector_entity, "ValidationException", 400, connectorEntityName="tickets")
    msg = expect_error(raw_client().describe_connector_entity, "ValidationException", 400,
                       connectorProfileName=zendesk)
    assert msg == ("1 validation error detected: Value null at 'connectorEntityName' failed to satisfy constraint: "
                   "Member must not be null")
    longest = member_meta("DescribeConnectorEntityRequest", "connectorEntityName", "max")
    assert longest == (1024 if has_shape("EntityName") else 128)
    msg = expect_error(client.describe_connector_entity, "ValidationException", 400,
                       connectorProfileName=zendesk, connectorEntityName="x" * (longest + 1))
    assert ("at 'connectorEntityName' failed to satisfy constraint: Member must have length less than or equal to "
            f"{longest}") in msg
    msg = expect_error(client.describe_connector_entity, "ValidationException", 400,
                       connectorProfileName=zendesk, connectorEntityName="has space")
    assert r"Member must satisfy regular expression pattern: \S+" in msg


@needs_reset_cache
def test_reset_connector_metadata_cache(client, zendesk):
    out = client.reset_connector_metadata_cache(connectorProfileName=zendesk)
    assert set(out) == {"ResponseMetadata"}
    client.reset_connector_metadata_cache(connectorType="S3", connectorEntityName="in-bucket/prefix")
    msg = expect_error(client.reset_connector_metadata_cache, "ResourceNotFoundException", 404,
                       connectorProfileName="ghost")
    assert msg == "Connector Profile with name ghost does not exist."
    expect_error(client.reset_connector_metadata_cache, "ValidationException", 400)
    msg = expect_error(client.reset_connector_metadata_cache, "ValidationException", 400,
                       connectorProfileName=zendesk, entitiesPath="a|b")
    assert "at 'entitiesPath'" in msg


def test_entities_of_a_profile_in_another_region_are_not_found(client, zendesk):
    west = boto3.client("appflow", region_name="us-west-2")
    expect_error(west.list_connector_entities, "ResourceNotFoundException", 404, connectorProfileName=zendesk)


# -- isolation ---------------------------------------------------------------------------------

@needs_registration
def test_registrations_are_per_region(client, appflow_mock):
    west = boto3.client("appflow", region_name="us-west-2")
    register(client, "acme")
    assert west.list_connectors()["connectors"] == []
    expect_error(west.describe_connector, "ResourceNotFoundException", 404,
                 connectorType="CustomConnector", connectorLabel="acme")
    arn = register(west, "acme", lambda_arn="arn:aws:lambda:us-west-2:123456789012:function:f")["connectorArn"]
    assert arn == f"arn:aws:appflow:us-west-2:{ACCOUNT}:connector/acme"
    west.unregister_connector(connectorLabel="acme")
    assert labels(client) == ["acme"]
    assert set(appflow_mock.state("us-east-1").registered_connectors) == {"acme"}


@needs_registration
def test_registrations_are_per_account(client, monkeypatch):
    register(client, "acme")
    monkeypatch.setenv("MOTO_ACCOUNT_ID", "111122223333")
    other = boto3.client("appflow", region_name="us-east-1")
    assert other.list_connectors()["connectors"] == []
    arn = register(other, "acme")["connectorArn"]
    assert arn == "arn:aws:appflow:us-east-1:111122223333:connector/acme"
    [c] = other.list_connectors()["connectors"]
    assert c["connectorOwner"] == "111122223333" and c["registeredBy"] == "CUSTOM"
    monkeypatch.delenv("MOTO_ACCOUNT_ID")
    assert labels(client) == ["acme"]


# -- the entity catalog --------------------------------------------------------------------------

def _entity_names(entity_map: Dict[str, Any]) -> List[str]:
    return [e["name"] for entities in entity_map.values() for e in entities]


@pytest.mark.parametrize("ctype, expected", [
    ("Salesforce", {"Account", "Contact", "Opportunity", "Lead", "Case"}),
    ("Servicenow", {"incident", "problem", "sys_user"}),
    ("Zendesk", {"tickets", "users", "organizations"}),
])
def test_saas_profiles_list_well_known_entities(client, ctype, expected):
    client.create_connector_profile(**profile_request("p", ctype))
    out = client.list_connector_entities(connectorProfileName="p")
    assert expected <= set(_entity_names(out["connectorEntityMap"]))
    for entities in out["connectorEntityMap"].values():
        for e in entities:
            assert e["label"] and e["hasNestedEntities"] is False
    assert "nextToken" not in out
    # The same catalog by connector type.
    assert client.list_connector_entities(connectorType=ctype)["connectorEntityMap"] == out["connectorEntityMap"]


def test_connectors_without_a_catalog_list_nothing(client):
    # Entity catalogs now cover every SaaS source (tests/catalog/test_entities.py); destination-only
    # connectors have none.
    for ctype in ("EventBridge", "Honeycode"):
        assert client.list_connector_entities(connectorType=ctype)["connectorEntityMap"] == {}
        assert client.describe_connector_entity(connectorType=ctype, connectorEntityName="x")["connectorEntityFields"] == []


@needs_entity_paging
def test_entity_pagination(client):
    client.create_connector_profile(**profile_request("sf", "Salesforce"))
    everything = _entity_names(client.list_connector_entities(connectorProfileName="sf")["connectorEntityMap"])
    seen: List[str] = []
    kwargs: Dict[str, Any] = {"connectorProfileName": "sf", "maxResults": 2}
    sizes = []
    while True:
        page = client.list_connector_entities(**kwargs)
        names = _entity_names(page["connectorEntityMap"])
        sizes.append(len(names))
        seen += names
        if "nextToken" not in page:
            break
        kwargs["nextToken"] = page["nextToken"]
    assert seen == everything
    assert all(n == 2 for n in sizes[:-1]) and 1 <= sizes[-1] <= 2
    expect_error(client.list_connector_entities, "ValidationException", 400,
                 connectorProfileName="sf", nextToken="forged")


def test_describe_salesforce_account(client):
    client.create_connector_profile(**profile_request("sf", "Salesforce"))
    fields = client.describe_connector_entity(connectorProfileName="sf", connectorEntityName="Account")["connectorEntityFields"]
    by_id = {f["identifier"]: f for f in fields}
    assert {"Id", "Name", "CreatedDate", "LastModifiedDate"} <= set(by_id)
    if has_member("ConnectorEntityField", "isPrimaryKey"):
        assert by_id["Id"]["isPrimaryKey"] is True and by_id["Name"]["isPrimaryKey"] is False
    else:
        assert all("isPrimaryKey" not in f for f in fields)
    if has_member("SourceFieldProperties", "isTimestampFieldForIncrementalQueries"):
        assert by_id["LastModifiedDate"]["sourceProperties"]["isTimestampFieldForIncrementalQueries"] is True
        assert by_id["Name"]["sourceProperties"]["isTimestampFieldForIncrementalQueries"] is False
    else:
        assert all("isTimestampFieldForIncrementalQueries" not in f["sourceProperties"] for f in fields)
    assert by_id["LastModifiedDate"]["supportedFieldTypeDetails"]["v1"]["fieldType"] == "datetime"
    assert "BETWEEN" in by_id["LastModifiedDate"]["supportedFieldTypeDetails"]["v1"]["filterOperators"]
    # Salesforce is a destination too: writable fields say how they can be written.
    assert by_id["Name"]["destinationProperties"]["isCreatable"] is True
    assert "UPSERT" in by_id["Name"]["destinationProperties"]["supportedWriteOperations"]
    assert by_id["Id"]["destinationProperties"]["isCreatable"] is False


@requires_member("ConnectorConfiguration", "supportedOperators")
def test_entity_operators_are_ones_the_connector_supports(client):
    for ctype, entity in (("Salesforce", "Opportunity"), ("Zendesk", "tickets"), ("Servicenow", "incident")):
        supported = set(one_configuration(client, ctype)["supportedOperators"])
        fields = client.describe_connector_entity(connectorType=ctype, connectorEntityName=entity)["connectorEntityFields"]
        assert fields
        for f in fields:
            ops = f["supportedFieldTypeDetails"]["v1"]["filterOperators"]
            assert "PROJECTION" in ops and set(ops) <= supported, (ctype, f["identifier"], ops)
    zendesk = client.describe_connector_entity(connectorType="Zendesk", connectorEntityName="tickets")
    for f in zendesk["connectorEntityFields"]:
        assert "LESS_THAN" not in f["supportedFieldTypeDetails"]["v1"]["filterOperators"]


def test_source_only_connector_entities_have_no_destination_properties(client):
    client.create_connector_profile(**profile_request("sn", "Servicenow"))
    fields = client.describe_connector_entity(connectorProfileName="sn", connectorEntityName="incident")["connectorEntityFields"]
    by_id = {f["identifier"]: f for f in fields}
    if has_member("SourceFieldProperties", "isTimestampFieldForIncrementalQueries"):
        assert by_id["sys_updated_on"]["sourceProperties"]["isTimestampFieldForIncrementalQueries"] is True
    if has_member("ConnectorEntityField", "isPrimaryKey"):
        assert by_id["sys_id"]["isPrimaryKey"] is True
    assert all("destinationProperties" not in f for f in fields)


def test_picklists_list_their_values(client):
    fields = client.describe_connector_entity(connectorType="Salesforce", connectorEntityName="Opportunity")["connectorEntityFields"]
    stage = next(f for f in fields if f["identifier"] == "StageName")
    assert "Closed" in stage["supportedFieldTypeDetails"]["v1"]["supportedValues"]


def test_describe_unknown_entity_is_not_found(client):
    client.create_connector_profile(**profile_request("sf", "Salesforce"))
    msg = expect_error(client.describe_connector_entity, "ResourceNotFoundException", 404,
                       connectorProfileName="sf", connectorEntityName="NoSuchObject__c")
    assert "NoSuchObject__c" in msg


# -- idempotency (clientToken) -------------------------------------------------------------------

@needs_registration
def test_register_retry_with_the_same_client_token(client):
    kwargs = {"connectorLabel": "acme", "connectorProvisioningType": "LAMBDA", "clientToken": "reg-token-1",
              "connectorProvisioningConfig": {"lambda": {"lambdaArn": LAMBDA_ARN}}}
    first = client.register_connector(**kwargs)["connectorArn"]
    assert client.register_connector(**kwargs)["connectorArn"] == first
    assert labels(client) == ["acme"]
    kwargs["connectorLabel"] = "other"
    expect_error(client.register_connector, "ConflictException", 409, **kwargs)
    assert labels(client) == ["acme"]


def test_every_catalogued_entity_describes_validly(client):
    # conftest runs the emulator in strict mode: every answer is checked against the output shape.
    for ctype in ("Salesforce", "Servicenow", "Zendesk"):
        entity_map = client.list_connector_entities(connectorType=ctype)["connectorEntityMap"]
        for name in _entity_names(entity_map):
            fields = client.describe_connector_entity(connectorType=ctype, connectorEntityName=name)
            assert fields["connectorEntityFields"], (ctype, name)
            if has_member("ConnectorEntityField", "isPrimaryKey"):
                assert sum(f["isPrimaryKey"] for f in fields["connectorEntityFields"]) == 1


@needs_registration
def test_describe_connectors_pages_through_registered_connectors(client):
    for label in ("c1", "c2", "c3"):
        register(client, label)
    first = client.describe_connectors(maxResults=len(BUILTIN_TYPES) + 1)
    assert len(first["connectorConfigurations"]) == len(BUILTIN_TYPES)
    assert [c["connectorLabel"] for c in first["connectors"]] == ["c1"]
    rest = client.describe_connectors(nextToken=first["nextToken"], maxResults=len(BUILTIN_TYPES) + 1)
    assert rest["connectorConfigurations"] == {}
    assert [c["connectorLabel"] for c in rest["connectors"]] == ["c2", "c3"]
    assert "nextToken" not in rest


@needs_registration
def test_registered_description_with_slash_is_echoed(client):
    register(client, "acme", description="a/b+c=d")
    [c] = client.list_connectors()["connectors"]
    assert c["connectorDescription"] == "a/b+c=d"


@needs_registration
def test_describe_connectors_pagination_survives_unregistering(client):
    for label in ("c1", "c2", "c3"):
        register(client, label)
    size = len(BUILTIN_TYPES) + 1
    first = client.describe_connectors(maxResults=size)
    assert [c["connectorLabel"] for c in first["connectors"]] == ["c1"]
    client.unregister_connector(connectorLabel="c1")
    register(client, "c4")
    rest = all_configurations(client, nextToken=first["nextToken"], maxResults=size)
    assert rest["configs"] == {}
    assert [c["connectorLabel"] for c in rest["connectors"]] == ["c2", "c3", "c4"]


@needs_registration
def test_describe_connectors_page_boundary_between_builtins_and_registrations(client):
    register(client, "c1")
    first = client.describe_connectors(maxResults=len(BUILTIN_TYPES))
    assert len(first["connectorConfigurations"]) == len(BUILTIN_TYPES)
    assert first.get("connectors", []) == []
    rest = client.describe_connectors(nextToken=first["nextToken"])
    assert rest["connectorConfigurations"] == {}
    assert [c["connectorLabel"] for c in rest["connectors"]] == ["c1"]
    assert "nextToken" not in rest




@needs_registration
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(live=st.lists(st.integers(0, 6), unique=True, max_size=6), page=st.integers(1, 30),
       only_custom=st.booleans())
def test_describe_connectors_walk_is_complete(client, appflow_mock, live, page, only_custom):
    appflow_mock.reset()
    labels_ = [f"conn{i}" for i in live]
    for label in labels_:
        register(client, label)
    kwargs: Dict[str, Any] = {"maxResults": page}
    if only_custom:
        kwargs["connectorTypes"] = ["CustomConnector"]
    walked = all_configurations(client, **kwargs)
    assert sorted(walked["configs"]) == ([] if only_custom else sorted(BUILTIN_TYPES))
    assert [c["connectorLabel"] for c in walked["connectors"]] == labels_
