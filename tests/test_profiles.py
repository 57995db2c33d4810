"""Connector profiles through boto3: CreateConnectorProfile, DescribeConnectorProfiles,
UpdateConnectorProfile, DeleteConnectorProfile.

Covers success paths, every modelled error, server-side validation of bad input (AWS-style
messages, statuses from the model), that failed requests change no state, that credentials
never leak (responses, error messages, reprs of the handle's state), quotas, and isolation
between regions and accounts.
"""
from __future__ import annotations

import copy
import datetime as dt
import json
import re
import time
from typing import Any, Dict, Iterable, List

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import (
    enum_params,
    enum_values,
    has_member,
    has_operation,
    is_required,
    member_meta,
    requires_enum_value,
    requires_member,
    requires_operation,
    shape_meta,
)
from tests.helpers import PROFILE_CONFIGS, expect_error, flow_request, profile_request, salesforce_source

REDACTED = "*** Sensitive Data Redacted ***"
ACCOUNT = "123456789012"
LAMBDA_ARN = "arn:aws:lambda:us-east-1:123456789012:function:my-connector"

# Custom connectors (and connector labels) came with RegisterConnector; older models have neither.
needs_custom_connectors = requires_operation("RegisterConnector")
needs_create_token = requires_member("CreateConnectorProfileRequest", "clientToken")
needs_update_token = requires_member("UpdateConnectorProfileRequest", "clientToken")
HAS_PRIVATE_STATE = has_member("ConnectorProfile", "privateConnectionProvisioningState")


# -- helpers ---------------------------------------------------------------------------------

def error_of(exc_info: Any) -> Dict[str, Any]:
    err = exc_info.value.response
    return {"code": err["Error"]["Code"], "message": err["Error"]["Message"],
            "status": err["ResponseMetadata"]["HTTPStatusCode"]}


def raw_client(region: str = "us-east-1") -> Any:
    """A client that skips botocore's own checks, so the server-side validation answers."""
    return boto3.client("appflow", region_name=region, config=Config(parameter_validation=False))


def all_profiles(client: Any, **filters: Any) -> List[Dict[str, Any]]:
    out: List[Dict[str, Any]] = []
    kwargs = dict(filters)
    while True:
        page = client.describe_connector_profiles(**kwargs)
        out.extend(page["connectorProfileDetails"])
        if "nextToken" not in page:
            return out
        kwargs["nextToken"] = page["nextToken"]


def names(details: Iterable[Dict[str, Any]]) -> List[str]:
    return [d["connectorProfileName"] for d in details]


def secrets_of(request: Dict[str, Any]) -> List[str]:
    """Every string value under connectorProfileCredentials."""
    found: List[str] = []

    def walk(v: Any) -> None:
        if isinstance(v, dict):
            for x in v.values():
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)
        elif isinstance(v, str):
            found.append(v)

    walk(request["connectorProfileConfig"].get("connectorProfileCredentials"))
    return found


def assert_no_secret(text: str, secrets: Iterable[str]) -> None:
    for s in secrets:
        if len(s) >= 6:  # short values like "u" or "cid" would match by accident
            assert s not in text, f"secret {s!r} leaked"


def dump(obj: Any) -> str:
    return json.dumps(obj, default=str, sort_keys=True)


def register(client: Any, label: str) -> str:
    return client.register_connector(
        connectorLabel=label, connectorProvisioningType="LAMBDA",
        connectorProvisioningConfig={"lambda": {"lambdaArn": LAMBDA_ARN}},
    )["connectorArn"]


def without_credentials(config: Dict[str, Any]) -> Dict[str, Any]:
    """A connectorProfileConfig with no credentials: the member left out, or empty where the
    installed model requires it (older models do), so the service's own rule answers."""
    config.pop("connectorProfileCredentials", None)
    if is_required("ConnectorProfileConfig", "connectorProfileCredentials"):
        config["connectorProfileCredentials"] = {}
    return config


def custom_profile_request(name: str, label: str, secret: str = "custom-api-key-secret") -> Dict[str, Any]:
    return {
        "connectorProfileName": name,
        "connectorType": "CustomConnector",
        "connectorLabel": label,
        "connectionMode": "Public",
        "connectorProfileConfig": {
            "connectorProfileProperties": {"CustomConnector": {"profileProperties": {"region": "eu"}}},
            "connectorProfileCredentials": {
                "CustomConnector": {"authenticationType": "APIKEY", "apiKey": {"apiKey": secret}},
            },
        },
    }


# -- create and describe -----------------------------------------------------------------------

def test_create_returns_arn_and_describe_shows_the_profile(client):
    out = client.create_connector_profile(**profile_request("zd"))
    assert out["connectorProfileArn"] == f"arn:aws:appflow:us-east-1:{ACCOUNT}:connectorprofile/zd"
    assert out["ResponseMetadata"]["HTTPStatusCode"] == 200

    [d] = client.describe_connector_profiles(connectorProfileNames=["zd"])["connectorProfileDetails"]
    assert d["connectorProfileArn"] == out["connectorProfileArn"]
    assert d["connectorProfileName"] == "zd"
    assert d["connectorType"] == "Zendesk"
    assert d["connectionMode"] == "Public"
    assert d["connectorProfileProperties"] == {"Zendesk": {"instanceUrl": "https://example.zendesk.com"}}
    assert re.fullmatch(
        rf"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:appflow!{ACCOUNT}-zd-\d{{13}}-[A-Za-z0-9]{{6}}",
        d["credentialsArn"],
    ), d["credentialsArn"]
    assert isinstance(d["createdAt"], dt.datetime) and d["createdAt"].tzinfo is not None
    assert d["createdAt"] == d["lastUpdatedAt"]
    # Optional members the user did not set are absent, never null.
    assert "connectorLabel" not in d
    assert "privateConnectionProvisioningState" not in d
    assert "connectorProfileCredentials" not in d


@pytest.mark.parametrize("connector_type", sorted(PROFILE_CONFIGS))
def test_each_connector_type_creates_and_never_returns_credentials(client, appflow_mock, connector_type):
    req = profile_request(f"p-{connector_type}", connector_type)
    secrets = secrets_of(req)
    out = client.create_connector_profile(**req)
    described = client.describe_connector_profiles(connectorType=connector_type)
    [d] = described["connectorProfileDetails"]
    assert d["connectorType"] == connector_type
    assert d["connectorProfileProperties"] == req["connectorProfileConfig"]["connectorProfileProperties"]
    for text in (dump(out), dump(described), repr(appflow_mock.state("us-east-1").connector_profiles),
                 repr(appflow_mock.state("us-east-1").connector_profiles[f"p-{connector_type}"]),
                 str(appflow_mock.state("us-east-1").connector_profiles[f"p-{connector_type}"]),
                 repr(appflow_mock.state("us-east-1")), repr(appflow_mock)):
        assert_no_secret(text, secrets)


def test_private_connection_mode_reports_provisioning_state(client):
    client.create_connector_profile(**profile_request("priv", connectionMode="Private"))
    [d] = client.describe_connector_profiles(connectorProfileNames=["priv"])["connectorProfileDetails"]
    assert d["connectionMode"] == "Private"
    if HAS_PRIVATE_STATE:
        assert d["privateConnectionProvisioningState"]["status"] in {"PENDING", "CREATED", "FAILED"}
    else:
        assert "privateConnectionProvisioningState" not in d  # not in the installed model


def test_created_at_comes_from_the_clock(client, monkeypatch):
    monkeypatch.setattr(time, "time", lambda: 1_700_000_000.125)
    client.create_connector_profile(**profile_request("timed"))
    [d] = client.describe_connector_profiles()["connectorProfileDetails"]
    expected = dt.datetime(2023, 11, 14, 22, 13, 20, 125000, tzinfo=dt.timezone.utc)
    assert d["createdAt"] == expected and d["lastUpdatedAt"] == expected
    assert "-1700000000125-" in d["credentialsArn"]


def test_duplicate_name_is_a_conflict_and_keeps_the_original(client):
    client.create_connector_profile(**profile_request("dup"))
    before = client.describe_connector_profiles()["connectorProfileDetails"]
    msg = expect_error(client.create_connector_profile, "ConflictException", 409,
                       **profile_request("dup", "Salesforce"))
    assert "dup" in msg
    assert client.describe_connector_profiles()["connectorProfileDetails"] == before


def test_profile_name_may_use_every_allowed_character(client):
    name = "a/b!c@d#e+f=g.h-i_J9"
    out = client.create_connector_profile(**profile_request(name))
    assert out["connectorProfileArn"].endswith(f":connectorprofile/{name}")
    assert names(client.describe_connector_profiles(connectorProfileNames=[name])["connectorProfileDetails"]) == [name]


@needs_custom_connectors
def test_custom_connector_profile_needs_a_registered_label(client, appflow_mock):
    req = custom_profile_request("cp", "acme")
    msg = expect_error(client.create_connector_profile, "ResourceNotFoundException", 404, **req)  # [seen] 404
    assert msg == "Connector:acme is not registered. Please register it first before creating ConnectorProfile."
    assert dict(appflow_mock.state("us-east-1").connector_profiles) == {}

    register(client, "acme")
    client.create_connector_profile(**req)
    [d] = client.describe_connector_profiles(connectorProfileNames=["cp"])["connectorProfileDetails"]
    assert d["connectorType"] == "CustomConnector"
    assert d["connectorLabel"] == "acme"
    assert d["connectorProfileProperties"] == {"CustomConnector": {"profileProperties": {"region": "eu"}}}
    assert "custom-api-key-secret" not in dump(d)


@needs_custom_connectors
def test_custom_connector_profile_without_label_is_rejected(client, appflow_mock):
    req = custom_profile_request("cp", "acme")
    del req["connectorLabel"]
    expect_error(client.create_connector_profile, "ValidationException", 400, **req)
    assert len(appflow_mock.state("us-east-1").connector_profiles) == 0


# -- create: semantic validation ---------------------------------------------------------------

def test_salesforce_oauth_request_without_auth_code(client, appflow_mock):
    req = profile_request("sf", "Salesforce")
    req["connectorProfileConfig"]["connectorProfileCredentials"] = {
        "Salesforce": {"oAuthRequest": {"redirectUri": "https://login.example.com/cb"}},
    }
    msg = expect_error(client.create_connector_profile, "ValidationException", 400, **req)
    assert msg == "Validation exception: AuthCode cannot be blank for connector: SALESFORCE"
    assert len(appflow_mock.state("us-east-1").connector_profiles) == 0


def test_salesforce_oauth_request_with_auth_code_is_accepted(client):
    req = profile_request("sf", "Salesforce")
    req["connectorProfileConfig"]["connectorProfileCredentials"] = {
        "Salesforce": {"oAuthRequest": {"authCode": "auth-code-secret-1", "redirectUri": "https://x.example.com/cb"}},
    }
    client.create_connector_profile(**req)
    assert "auth-code-secret-1" not in dump(client.describe_connector_profiles())


def test_credentials_are_required_for_zendesk(client, appflow_mock):
    req = profile_request("zd")
    without_credentials(req["connectorProfileConfig"])
    msg = expect_error(client.create_connector_profile, "ValidationException", 400, **req)
    assert "ZENDESK" in msg
    assert len(appflow_mock.state("us-east-1").connector_profiles) == 0


def test_properties_of_another_connector_are_rejected(client, appflow_mock):
    req = profile_request("zd")
    req["connectorProfileConfig"]["connectorProfileProperties"] = {
        "Salesforce": {"instanceUrl": "https://example.my.salesforce.com"}}
    expect_error(client.create_connector_profile, "ValidationException", 400, **req)
    assert len(appflow_mock.state("us-east-1").connector_profiles) == 0


def test_credentials_of_another_connector_are_rejected(client, appflow_mock):
    req = profile_request("zd")
    req["connectorProfileConfig"]["connectorProfileCredentials"] = {
        "Slack": {"clientId": "cid", "clientSecret": "slack-secret-xyz"}}
    msg = expect_error(client.create_connector_profile, "ValidationException", 400, **req)
    assert "slack-secret-xyz" not in msg
    assert len(appflow_mock.state("us-east-1").connector_profiles) == 0


def test_connector_without_profiles_is_rejected(client, appflow_mock):
    req = {"connectorProfileName": "s3", "connectorType": "S3", "connectionMode": "Public",
           "connectorProfileConfig": without_credentials({"connectorProfileProperties": {}})}
    expect_error(client.create_connector_profile, "ValidationException", 400, **req)
    assert len(appflow_mock.state("us-east-1").connector_profiles) == 0


def test_model_required_property_is_enforced_server_side(client, appflow_mock):
    req = profile_request("zd")
    req["connectorProfileConfig"]["connectorProfileProperties"] = {"Zendesk": {}}
    msg = expect_error(raw_client().create_connector_profile, "ValidationException", 400, **req)
    assert msg == ("1 validation error detected: Value null at "
                   "'connectorProfileConfig.connectorProfileProperties.Zendesk.instanceUrl' "
                   "failed to satisfy constraint: Member must not be null")
    assert len(appflow_mock.state("us-east-1").connector_profiles) == 0


# -- create: input validation (the model's constraints, checked by the service) ----------------

# The enum as the installed model lists it (24 types today, 21 in mid-2021 models).
ENUM_TYPES = ", ".join(enum_values("ConnectorType"))
PROFILE_NAME_PATTERN = shape_meta("ConnectorProfileName", "pattern")


@pytest.mark.parametrize("change, expected", [
    ({"connectorType": "Nope"},
     f"1 validation error detected: Value 'Nope' at 'connectorType' failed to satisfy constraint: "
     f"Member must satisfy enum value set: [{ENUM_TYPES}]"),
    ({"connectionMode": "Hybrid"},
     "1 validation error detected: Value 'Hybrid' at 'connectionMode' failed to satisfy constraint: "
     "Member must satisfy enum value set: [Public, Private]"),
    ({"connectorProfileName": "x" * 257},
     f"1 validation error detected: Value '{'x' * 257}' at 'connectorProfileName' failed to satisfy "
     "constraint: Member must have length less than or equal to 256"),
    ({"connectorProfileName": "has space"},
     "1 validation error detected: Value 'has space' at 'connectorProfileName' failed to satisfy "
     f"constraint: Member must satisfy regular expression pattern: {PROFILE_NAME_PATTERN}"),
    ({"connectorProfileName": "caf\u00e9"},
     "1 validation error detected: Value 'caf\u00e9' at 'connectorProfileName' failed to satisfy "
     f"constraint: Member must satisfy regular expression pattern: {PROFILE_NAME_PATTERN}"),
    ({"kmsArn": "arn:aws:s3:::not-a-key-at-all"},
     "1 validation error detected: Value 'arn:aws:s3:::not-a-key-at-all' at 'kmsArn' failed to satisfy "
     f"constraint: Member must satisfy regular expression pattern: {shape_meta('KMSArn', 'pattern')}"),
    pytest.param(
        {"connectorLabel": "-bad"},
        "1 validation error detected: Value '-bad' at 'connectorLabel' failed to satisfy constraint: "
        f"Member must satisfy regular expression pattern: {shape_meta('ConnectorLabel', 'pattern')}",
        marks=requires_member("CreateConnectorProfileRequest", "connectorLabel")),
    pytest.param(
        {"clientToken": "tab\there"},
        "1 validation error detected: Value 'tab\there' at 'clientToken' failed to satisfy constraint: "
        f"Member must satisfy regular expression pattern: {shape_meta('ClientToken', 'pattern')}",
        marks=needs_create_token),
])
def test_create_rejects_bad_input_with_aws_message(client, appflow_mock, change, expected):
    req = profile_request("p1")
    req.update(change)
    msg = expect_error(client.create_connector_profile, "ValidationException", 400, **req)
    assert msg == expected
    assert len(appflow_mock.state("us-east-1").connector_profiles) == 0
    assert client.describe_connector_profiles()["connectorProfileDetails"] == []


def test_create_instance_url_too_long(client, appflow_mock):
    req = profile_request("p1")
    url = "https://" + "a" * 300
    req["connectorProfileConfig"]["connectorProfileProperties"]["Zendesk"]["instanceUrl"] = url
    msg = expect_error(client.create_connector_profile, "ValidationException", 400, **req)
    assert msg == (f"1 validation error detected: Value '{url}' at "
                   "'connectorProfileConfig.connectorProfileProperties.Zendesk.instanceUrl' failed to satisfy "
                   "constraint: Member must have length less than or equal to 256")
    assert len(appflow_mock.state("us-east-1").connector_profiles) == 0


def test_several_errors_are_counted_and_joined(client):
    req = profile_request("has space", connectionMode="Hybrid")
    msg = expect_error(client.create_connector_profile, "ValidationException", 400, **req)
    assert msg.startswith("2 validation errors detected: ")
    assert "at 'connectorProfileName'" in msg and "at 'connectionMode'" in msg
    assert "; Value " in msg


def test_missing_required_members_are_rejected_server_side(appflow_mock):
    raw = raw_client()
    msg = expect_error(raw.create_connector_profile, "ValidationException", 400,
                       connectorProfileName="p1", connectorType="Zendesk", connectionMode="Public")
    assert msg == ("1 validation error detected: Value null at 'connectorProfileConfig' "
                   "failed to satisfy constraint: Member must not be null")
    msg = expect_error(raw.create_connector_profile, "ValidationException", 400, connectorProfileName="p1")
    assert msg.startswith("3 validation errors detected: ")
    assert len(appflow_mock.state("us-east-1").connector_profiles) == 0


def test_wrong_types_are_rejected_server_side(appflow_mock):
    req = profile_request("p1")
    req["connectorProfileName"] = 12345
    msg = expect_error(raw_client().create_connector_profile, "ValidationException", 400, **req)
    assert "at 'connectorProfileName'" in msg and "Member must be of type string" in msg
    assert len(appflow_mock.state("us-east-1").connector_profiles) == 0


# -- secrets never leak -----------------------------------------------------------------------

def test_over_long_client_secret_is_redacted_in_the_message(client, appflow_mock):
    secret = "S3cr3t" * 100  # 600 characters > 512
    req = profile_request("zd")
    req["connectorProfileConfig"]["connectorProfileCredentials"]["Zendesk"]["clientSecret"] = secret
    msg = expect_error(client.create_connector_profile, "ValidationException", 400, **req)
    assert msg == (f"1 validation error detected: Value '{REDACTED}' at "
                   "'connectorProfileConfig.connectorProfileCredentials.Zendesk.clientSecret' "
                   "failed to satisfy constraint: Member must have length less than or equal to 512")
    assert "S3cr3t" not in msg
    assert len(appflow_mock.state("us-east-1").connector_profiles) == 0


def test_credentials_the_model_does_not_mark_sensitive_are_redacted_too(client):
    # Salesforce's refreshToken is not flagged sensitive in the model, but it is a credential.
    req = profile_request("sf", "Salesforce")
    req["connectorProfileConfig"]["connectorProfileCredentials"]["Salesforce"]["refreshToken"] = "refresh token leak"
    msg = expect_error(client.create_connector_profile, "ValidationException", 400, **req)
    assert REDACTED in msg
    assert "refresh token leak" not in msg
    assert "connectorProfileCredentials.Salesforce.refreshToken" in msg


def test_credentials_of_the_wrong_type_are_redacted(appflow_mock):
    req = profile_request("zd")
    # A list where a string belongs (botocore's serializer passes it through unchanged).
    req["connectorProfileConfig"]["connectorProfileCredentials"]["Zendesk"]["clientSecret"] = [
        "plain-text-password-leak"]
    msg = expect_error(raw_client().create_connector_profile, "ValidationException", 400, **req)
    assert "plain-text-password-leak" not in msg
    assert msg == (f"1 validation error detected: Value '{REDACTED}' at "
                   "'connectorProfileConfig.connectorProfileCredentials.Zendesk.clientSecret' "
                   "failed to satisfy constraint: Member must be of type string")


def test_secrets_do_not_leak_when_other_members_are_invalid(client):
    req = profile_request("bad name")
    msg = expect_error(client.create_connector_profile, "ValidationException", 400, **req)
    assert_no_secret(msg, secrets_of(profile_request("x")))


def test_update_does_not_leak_new_credentials(client, appflow_mock):
    client.create_connector_profile(**profile_request("zd"))
    req = profile_request("zd")
    req["connectorProfileConfig"]["connectorProfileCredentials"]["Zendesk"]["clientSecret"] = "rotated-secret-42"
    del req["connectorType"]
    out = client.update_connector_profile(**req)
    seen = dump(out) + dump(client.describe_connector_profiles())
    seen += repr(appflow_mock.state("us-east-1").connector_profiles)
    assert "rotated-secret-42" not in seen and "zendesk-secret" not in seen


@needs_custom_connectors
def test_state_objects_never_show_credentials(client, appflow_mock):
    register(client, "acme")
    client.create_connector_profile(**custom_profile_request("cp", "acme", secret="very-secret-api-key"))
    state = appflow_mock.state("us-east-1")
    profile = state.connector_profiles["cp"]
    for text in (repr(state.connector_profiles), repr(profile), str(profile), repr(vars(profile)),
                 repr(state), repr(appflow_mock)):
        assert "very-secret-api-key" not in text
    # The handle's view is read-only.
    with pytest.raises(TypeError):
        state.connector_profiles["other"] = profile  # type: ignore[index]


# -- quotas -----------------------------------------------------------------------------------

def test_profile_quota(client, appflow_mock):
    appflow_mock.set_quota("connector_profiles", 2)
    client.create_connector_profile(**profile_request("p1"))
    client.create_connector_profile(**profile_request("p2"))
    expect_error(client.create_connector_profile, "ServiceQuotaExceededException", 402,
                 **profile_request("p3"))
    assert names(all_profiles(client)) == ["p1", "p2"]
    # Deleting one frees a slot.
    client.delete_connector_profile(connectorProfileName="p1")
    client.create_connector_profile(**profile_request("p3"))
    assert names(all_profiles(client)) == ["p2", "p3"]


def test_quota_counts_per_region(client, appflow_mock):
    appflow_mock.set_quota("connector_profiles", 1)
    client.create_connector_profile(**profile_request("p1"))
    west = boto3.client("appflow", region_name="us-west-2")
    west.create_connector_profile(**profile_request("p1"))
    expect_error(west.create_connector_profile, "ServiceQuotaExceededException", 402, **profile_request("p2"))


def test_duplicate_is_reported_before_quota(client, appflow_mock):
    appflow_mock.set_quota("connector_profiles", 1)
    client.create_connector_profile(**profile_request("p1"))
    expect_error(client.create_connector_profile, "ConflictException", 409, **profile_request("p1"))


# -- describe: filters and pagination -----------------------------------------------------------

@pytest.fixture
def mixed_profiles(client):
    """Built-in profiles, and custom connector profiles where the installed model has them."""
    if has_operation("RegisterConnector"):
        register(client, "acme")
        register(client, "globex")
    client.create_connector_profile(**profile_request("zd1"))
    client.create_connector_profile(**profile_request("sf1", "Salesforce"))
    client.create_connector_profile(**profile_request("zd2"))
    if not has_operation("RegisterConnector"):
        return ["zd1", "sf1", "zd2"]
    client.create_connector_profile(**custom_profile_request("c-acme", "acme"))
    client.create_connector_profile(**custom_profile_request("c-globex", "globex"))
    return ["zd1", "sf1", "zd2", "c-acme", "c-globex"]


def test_describe_without_filters_lists_all_in_creation_order(client, mixed_profiles):
    assert names(client.describe_connector_profiles()["connectorProfileDetails"]) == mixed_profiles


def test_describe_on_empty_account(client):
    out = client.describe_connector_profiles()
    assert out["connectorProfileDetails"] == []
    assert "nextToken" not in out


@pytest.mark.parametrize("filters, expected", [
    ({"connectorProfileNames": ["zd2", "sf1"]}, ["sf1", "zd2"]),
    ({"connectorProfileNames": ["zd2", "missing"]}, ["zd2"]),
    ({"connectorProfileNames": ["missing"]}, []),
    ({"connectorType": "Zendesk"}, ["zd1", "zd2"]),
    ({"connectorType": "Slack"}, []),
    pytest.param({"connectorType": "CustomConnector"}, ["c-acme", "c-globex"], marks=needs_custom_connectors),
    pytest.param({"connectorLabel": "globex"}, ["c-globex"], marks=needs_custom_connectors),
    pytest.param({"connectorLabel": "nobody"}, [], marks=needs_custom_connectors),
    pytest.param({"connectorType": "CustomConnector", "connectorLabel": "acme"}, ["c-acme"],
                 marks=needs_custom_connectors),
    ({"connectorType": "Zendesk", "connectorProfileNames": ["zd1", "sf1"]}, ["zd1"]),
    ({"connectorType": "Salesforce", "connectorProfileNames": ["zd1"]}, []),
])
def test_describe_filters(client, mixed_profiles, filters, expected):
    out = client.describe_connector_profiles(**filters)
    assert names(out["connectorProfileDetails"]) == expected
    assert "nextToken" not in out


def test_pagination_walks_every_profile_once(client):
    created = [f"p{i:02d}" for i in range(7)]
    for n in created:
        client.create_connector_profile(**profile_request(n))
    seen: List[str] = []
    pages = []
    kwargs: Dict[str, Any] = {"maxResults": 3}
    while True:
        page = client.describe_connector_profiles(**kwargs)
        pages.append(len(page["connectorProfileDetails"]))
        seen += names(page["connectorProfileDetails"])
        if "nextToken" not in page:
            break
        kwargs["nextToken"] = page["nextToken"]
    assert pages == [3, 3, 1]
    assert seen == created


def test_exact_page_has_no_dangling_token(client):
    for n in ("a1", "a2"):
        client.create_connector_profile(**profile_request(n))
    out = client.describe_connector_profiles(maxResults=2)
    assert names(out["connectorProfileDetails"]) == ["a1", "a2"]
    assert "nextToken" not in out


def test_default_page_size_is_20(client):
    for i in range(23):
        client.create_connector_profile(**profile_request(f"p{i:02d}"))
    first = client.describe_connector_profiles()
    assert len(first["connectorProfileDetails"]) == 20
    second = client.describe_connector_profiles(nextToken=first["nextToken"])
    assert names(second["connectorProfileDetails"]) == ["p20", "p21", "p22"]
    assert "nextToken" not in second


def test_pagination_with_a_filter(client):
    for i in range(6):
        ctype = "Zendesk" if i % 2 == 0 else "Salesforce"
        client.create_connector_profile(**profile_request(f"p{i}", ctype))
    first = client.describe_connector_profiles(connectorType="Zendesk", maxResults=2)
    assert names(first["connectorProfileDetails"]) == ["p0", "p2"]
    second = client.describe_connector_profiles(connectorType="Zendesk", maxResults=2,
                                                nextToken=first["nextToken"])
    assert names(second["connectorProfileDetails"]) == ["p4"]
    assert "nextToken" not in second


def test_pagination_is_stable_across_deletes_and_inserts(client):
    for n in ("a", "b", "c", "d"):
        client.create_connector_profile(**profile_request(n))
    first = client.describe_connector_profiles(maxResults=2)
    assert names(first["connectorProfileDetails"]) == ["a", "b"]
    client.delete_connector_profile(connectorProfileName="a")
    client.delete_connector_profile(connectorProfileName="c")
    client.create_connector_profile(**profile_request("e"))
    rest = all_profiles(client, nextToken=first["nextToken"])
    assert names(rest) == ["d", "e"]


@pytest.mark.parametrize("token", ["garbage", "Zm9vOmJhcg", "cHJvZmlsZXM6LTE"])
def test_bad_next_token(client, token):
    client.create_connector_profile(**profile_request("p1"))
    expect_error(client.describe_connector_profiles, "ValidationException", 400, nextToken=token)


def test_next_token_of_another_listing_is_rejected(client):
    # Older models have no maxResults there, but the default page (20) leaves a token too.
    paging = {"maxResults": 1} if has_member("DescribeConnectorsRequest", "maxResults") else {}
    token = client.describe_connectors(**paging)["nextToken"]
    expect_error(client.describe_connector_profiles, "ValidationException", 400, nextToken=token)


def test_describe_input_constraints(client, appflow_mock):
    raw = raw_client()
    msg = expect_error(raw.describe_connector_profiles, "ValidationException", 400, maxResults=0)
    assert msg == ("1 validation error detected: Value '0' at 'maxResults' failed to satisfy constraint: "
                   "Member must have value greater than or equal to 1")
    msg = expect_error(client.describe_connector_profiles, "ValidationException", 400, maxResults=101)
    assert msg == ("1 validation error detected: Value '101' at 'maxResults' failed to satisfy constraint: "
                   "Member must have value less than or equal to 100")
    msg = expect_error(client.describe_connector_profiles, "ValidationException", 400, nextToken="a b")
    assert msg == ("1 validation error detected: Value 'a b' at 'nextToken' failed to satisfy constraint: "
                   "Member must satisfy regular expression pattern: "
                   + member_meta("DescribeConnectorProfilesRequest", "nextToken", "pattern"))
    msg = expect_error(client.describe_connector_profiles, "ValidationException", 400,
                       connectorProfileNames=[f"n{i}" for i in range(101)])
    assert "at 'connectorProfileNames'" in msg and "Member must have length less than or equal to 100" in msg
    msg = expect_error(client.describe_connector_profiles, "ValidationException", 400, connectorType="zendesk")
    assert "Member must satisfy enum value set" in msg
    msg = expect_error(client.describe_connector_profiles, "ValidationException", 400,
                       connectorProfileNames=["ok", "not ok"])
    assert "Value 'not ok' at 'connectorProfileNames.2.member'" in msg
    msg = expect_error(raw.describe_connector_profiles, "ValidationException", 400, maxResults="5")
    assert "Member must be of type integer" in msg


# -- update -----------------------------------------------------------------------------------

def _update_request(name: str, connector_type: str = "Zendesk", **extra: Any) -> Dict[str, Any]:
    req = profile_request(name, connector_type, **extra)
    del req["connectorType"]
    return req


def test_update_replaces_properties_and_moves_last_updated(client, monkeypatch):
    monkeypatch.setattr(time, "time", lambda: 1_700_000_000.0)
    arn = client.create_connector_profile(**profile_request("zd"))["connectorProfileArn"]
    [before] = client.describe_connector_profiles()["connectorProfileDetails"]

    monkeypatch.setattr(time, "time", lambda: 1_700_000_600.5)
    req = _update_request("zd")
    req["connectorProfileConfig"]["connectorProfileProperties"]["Zendesk"]["instanceUrl"] = "https://new.zendesk.com"
    out = client.update_connector_profile(**req)
    assert out["connectorProfileArn"] == arn

    [after] = client.describe_connector_profiles()["connectorProfileDetails"]
    assert after["connectorProfileProperties"] == {"Zendesk": {"instanceUrl": "https://new.zendesk.com"}}
    assert after["createdAt"] == before["createdAt"]
    assert after["lastUpdatedAt"] - before["createdAt"] == dt.timedelta(seconds=600, milliseconds=500)
    assert after["credentialsArn"] == before["credentialsArn"]
    assert after["connectorType"] == "Zendesk"


def test_update_connection_mode(client):
    client.create_connector_profile(**profile_request("zd"))
    client.update_connector_profile(**_update_request("zd", connectionMode="Private"))
    [d] = client.describe_connector_profiles()["connectorProfileDetails"]
    assert d["connectionMode"] == "Private"
    assert ("privateConnectionProvisioningState" in d) == HAS_PRIVATE_STATE
    client.update_connector_profile(**_update_request("zd", connectionMode="Public"))
    [d] = client.describe_connector_profiles()["connectorProfileDetails"]
    assert d["connectionMode"] == "Public"
    assert "privateConnectionProvisioningState" not in d


def test_update_unknown_profile_is_not_found(client):
    msg = expect_error(client.update_connector_profile, "ResourceNotFoundException", 404, **_update_request("ghost"))
    assert msg == "Connector Profile with name ghost does not exist."
    assert client.describe_connector_profiles()["connectorProfileDetails"] == []


def test_update_with_properties_of_another_connector_changes_nothing(client):
    client.create_connector_profile(**profile_request("zd"))
    before = client.describe_connector_profiles()["connectorProfileDetails"]
    req = _update_request("zd", "Salesforce")
    expect_error(client.update_connector_profile, "ValidationException", 400, **req)
    assert client.describe_connector_profiles()["connectorProfileDetails"] == before


@pytest.mark.parametrize("change, where", [
    ({"connectionMode": "Hybrid"}, "connectionMode"),
    ({"connectorProfileName": "x" * 257}, "connectorProfileName"),
    ({"connectorProfileName": "bad name"}, "connectorProfileName"),
    pytest.param({"clientToken": "x" * 257}, "clientToken", marks=needs_update_token),
])
def test_update_rejects_bad_input(client, change, where):
    client.create_connector_profile(**profile_request("zd"))
    before = client.describe_connector_profiles()["connectorProfileDetails"]
    req = _update_request("zd", connectionMode="Private")
    req.update(change)
    msg = expect_error(client.update_connector_profile, "ValidationException", 400, **req)
    assert msg.startswith("1 validation error detected: Value ")
    assert f"at '{where}' failed to satisfy constraint" in msg
    assert client.describe_connector_profiles()["connectorProfileDetails"] == before


def test_update_redacts_over_long_secret_and_changes_nothing(client):
    client.create_connector_profile(**profile_request("zd"))
    before = client.describe_connector_profiles()["connectorProfileDetails"]
    req = _update_request("zd", connectionMode="Private")
    req["connectorProfileConfig"]["connectorProfileCredentials"]["Zendesk"]["accessToken"] = "tkn" * 2000
    msg = expect_error(client.update_connector_profile, "ValidationException", 400, **req)
    assert REDACTED in msg and "tkntkn" not in msg
    assert client.describe_connector_profiles()["connectorProfileDetails"] == before


def test_update_missing_config_server_side(client):
    client.create_connector_profile(**profile_request("zd"))
    msg = expect_error(raw_client().update_connector_profile, "ValidationException", 400,
                       connectorProfileName="zd", connectionMode="Public")
    assert msg == ("1 validation error detected: Value null at 'connectorProfileConfig' "
                   "failed to satisfy constraint: Member must not be null")


def test_update_salesforce_oauth_without_auth_code(client):
    client.create_connector_profile(**profile_request("sf", "Salesforce"))
    before = client.describe_connector_profiles()["connectorProfileDetails"]
    req = _update_request("sf", "Salesforce")
    req["connectorProfileConfig"]["connectorProfileCredentials"] = {"Salesforce": {"oAuthRequest": {}}}
    msg = expect_error(client.update_connector_profile, "ValidationException", 400, **req)
    assert msg == "Validation exception: AuthCode cannot be blank for connector: SALESFORCE"
    assert client.describe_connector_profiles()["connectorProfileDetails"] == before


@needs_custom_connectors
def test_update_custom_connector_profile(client):
    register(client, "acme")
    client.create_connector_profile(**custom_profile_request("cp", "acme"))
    req = custom_profile_request("cp", "acme", secret="second-api-key")
    del req["connectorType"], req["connectorLabel"]
    req["connectorProfileConfig"]["connectorProfileProperties"]["CustomConnector"]["profileProperties"] = {"region": "us"}
    client.update_connector_profile(**req)
    [d] = client.describe_connector_profiles(connectorLabel="acme")["connectorProfileDetails"]
    assert d["connectorProfileProperties"]["CustomConnector"]["profileProperties"] == {"region": "us"}
    assert d["connectorLabel"] == "acme"
    assert "second-api-key" not in dump(d)


# -- delete -----------------------------------------------------------------------------------

def test_delete_removes_the_profile(client, appflow_mock):
    client.create_connector_profile(**profile_request("zd"))
    out = client.delete_connector_profile(connectorProfileName="zd")
    assert out["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert client.describe_connector_profiles()["connectorProfileDetails"] == []
    assert "zd" not in appflow_mock.state("us-east-1").connector_profiles
    # The name can be used again.
    client.create_connector_profile(**profile_request("zd", "Salesforce"))
    [d] = client.describe_connector_profiles()["connectorProfileDetails"]
    assert d["connectorType"] == "Salesforce"


def test_delete_unknown_is_not_found(client):
    msg = expect_error(client.delete_connector_profile, "ResourceNotFoundException", 404,
                       connectorProfileName="ghost")
    assert msg == "Connector Profile with name ghost does not exist."
    client.create_connector_profile(**profile_request("zd"))
    client.delete_connector_profile(connectorProfileName="zd")
    expect_error(client.delete_connector_profile, "ResourceNotFoundException", 404, connectorProfileName="zd")


def test_delete_in_use_by_a_flow_is_a_conflict_unless_forced(client):
    client.create_connector_profile(**profile_request("sf", "Salesforce"))
    client.create_flow(**flow_request("uses-sf", source=salesforce_source("sf")))
    msg = expect_error(client.delete_connector_profile, "ConflictException", 409, connectorProfileName="sf")
    assert "sf" in msg
    assert names(client.describe_connector_profiles()["connectorProfileDetails"]) == ["sf"]
    # forceDelete=False is the same as leaving it out.
    expect_error(client.delete_connector_profile, "ConflictException", 409,
                 connectorProfileName="sf", forceDelete=False)
    client.delete_connector_profile(connectorProfileName="sf", forceDelete=True)
    assert client.describe_connector_profiles()["connectorProfileDetails"] == []


def test_delete_after_the_flow_is_gone(client):
    client.create_connector_profile(**profile_request("sf", "Salesforce"))
    client.create_flow(**flow_request("uses-sf", source=salesforce_source("sf")))
    client.delete_flow(flowName="uses-sf")
    client.delete_connector_profile(connectorProfileName="sf")
    assert client.describe_connector_profiles()["connectorProfileDetails"] == []


def test_delete_input_validation(client):
    client.create_connector_profile(**profile_request("zd"))
    msg = expect_error(client.delete_connector_profile, "ValidationException", 400, connectorProfileName="x" * 257)
    assert "Member must have length less than or equal to 256" in msg
    msg = expect_error(client.delete_connector_profile, "ValidationException", 400, connectorProfileName="z d")
    assert "Member must satisfy regular expression pattern" in msg
    msg = expect_error(raw_client().delete_connector_profile, "ValidationException", 400,
                       connectorProfileName="zd", forceDelete="yes")
    assert "Member must be of type boolean" in msg
    assert names(client.describe_connector_profiles()["connectorProfileDetails"]) == ["zd"]


# -- isolation --------------------------------------------------------------------------------

def test_regions_are_isolated(client, appflow_mock):
    west = boto3.client("appflow", region_name="us-west-2")
    client.create_connector_profile(**profile_request("shared"))
    assert west.describe_connector_profiles()["connectorProfileDetails"] == []
    expect_error(west.delete_connector_profile, "ResourceNotFoundException", 404, connectorProfileName="shared")
    arn = west.create_connector_profile(**profile_request("shared", "Salesforce"))["connectorProfileArn"]
    assert arn == f"arn:aws:appflow:us-west-2:{ACCOUNT}:connectorprofile/shared"
    [d] = west.describe_connector_profiles()["connectorProfileDetails"]
    assert d["connectorType"] == "Salesforce" and ":us-west-2:" in d["credentialsArn"]
    [d] = client.describe_connector_profiles()["connectorProfileDetails"]
    assert d["connectorType"] == "Zendesk"
    assert set(appflow_mock.state("us-west-2").connector_profiles) == {"shared"}


def test_accounts_are_isolated(client, appflow_mock, monkeypatch):
    client.create_connector_profile(**profile_request("mine"))
    monkeypatch.setenv("MOTO_ACCOUNT_ID", "111122223333")
    other = boto3.client("appflow", region_name="us-east-1")
    assert other.describe_connector_profiles()["connectorProfileDetails"] == []
    arn = other.create_connector_profile(**profile_request("theirs"))["connectorProfileArn"]
    assert arn == "arn:aws:appflow:us-east-1:111122223333:connectorprofile/theirs"
    [d] = other.describe_connector_profiles()["connectorProfileDetails"]
    assert d["credentialsArn"].startswith("arn:aws:secretsmanager:us-east-1:111122223333:secret:appflow!111122223333-theirs-")
    assert set(appflow_mock.state("us-east-1", account_id="111122223333").connector_profiles) == {"theirs"}
    assert set(appflow_mock.state("us-east-1", account_id=ACCOUNT).connector_profiles) == {"mine"}
    monkeypatch.delenv("MOTO_ACCOUNT_ID")
    assert names(client.describe_connector_profiles()["connectorProfileDetails"]) == ["mine"]


def test_reset_forgets_profiles(client, appflow_mock):
    client.create_connector_profile(**profile_request("zd"))
    appflow_mock.reset()
    assert client.describe_connector_profiles()["connectorProfileDetails"] == []


# -- idempotency (clientToken) -------------------------------------------------------------------

@needs_create_token
def test_retried_create_with_the_same_client_token_replays_the_answer(client, appflow_mock):
    req = profile_request("zd", clientToken="retry-token-1")
    first = client.create_connector_profile(**req)["connectorProfileArn"]
    second = client.create_connector_profile(**req)["connectorProfileArn"]
    assert first == second
    assert names(all_profiles(client)) == ["zd"]


@needs_create_token
def test_client_token_reused_for_another_request_is_a_conflict(client):
    client.create_connector_profile(**profile_request("zd", clientToken="token-2"))
    expect_error(client.create_connector_profile, "ConflictException", 409,
                 **profile_request("other", clientToken="token-2"))
    assert names(all_profiles(client)) == ["zd"]


def test_generated_client_tokens_make_each_create_distinct(client):
    # boto3 fills in a fresh clientToken per call, so a second identical create is a duplicate.
    client.create_connector_profile(**profile_request("zd"))
    expect_error(client.create_connector_profile, "ConflictException", 409, **profile_request("zd"))


@needs_create_token
def test_failed_create_does_not_burn_the_client_token(client, appflow_mock):
    appflow_mock.set_quota("connector_profiles", 0)
    req = profile_request("zd", clientToken="token-3")
    expect_error(client.create_connector_profile, "ServiceQuotaExceededException", 402, **req)
    appflow_mock.set_quota("connector_profiles", 5)
    client.create_connector_profile(**req)
    assert names(all_profiles(client)) == ["zd"]


def test_no_handle_state_attribute_holds_credentials(client, appflow_mock):
    req = profile_request("zd")
    client.create_connector_profile(**req)
    upd = _update_request("zd")
    upd["connectorProfileConfig"]["connectorProfileCredentials"]["Zendesk"]["clientSecret"] = "rotated-secret-99"
    client.update_connector_profile(**upd)
    state = appflow_mock.state("us-east-1")
    text = repr({name: getattr(state, name) for name in dir(state) if not name.startswith("__")})
    assert "zendesk-secret" not in text
    assert "rotated-secret-99" not in text


@needs_custom_connectors
def test_connector_label_is_ignored_for_builtin_connectors(client):
    register(client, "acme")
    client.create_connector_profile(**profile_request("zd", connectorLabel="acme"))
    [d] = client.describe_connector_profiles()["connectorProfileDetails"]
    assert "connectorLabel" not in d
    assert client.describe_connector_profiles(connectorLabel="acme")["connectorProfileDetails"] == []
    # ... so it does not pin the custom connector's registration either.
    client.unregister_connector(connectorLabel="acme")


# -- properties ---------------------------------------------------------------------------------


_PROPERTY_SETTINGS = settings(max_examples=25, deadline=None,
                              suppress_health_check=[HealthCheck.function_scoped_fixture])


@_PROPERTY_SETTINGS
@given(steps=st.lists(st.tuples(st.sampled_from(["create", "delete"]), st.integers(0, 9)), max_size=25),
       page=st.integers(1, 4))
def test_pagination_always_walks_the_live_profiles_in_creation_order(client, appflow_mock, steps, page):
    appflow_mock.reset()
    live: List[str] = []
    for op, i in steps:
        name = f"p{i}"
        if op == "create":
            if name in live:
                expect_error(client.create_connector_profile, "ConflictException", 409, **profile_request(name))
            else:
                client.create_connector_profile(**profile_request(name))
                live.append(name)
        elif name in live:
            client.delete_connector_profile(connectorProfileName=name)
            live.remove(name)
        else:
            expect_error(client.delete_connector_profile, "ResourceNotFoundException", 404, connectorProfileName=name)
    walked = all_profiles(client, maxResults=page)
    assert names(walked) == live
    assert sorted(appflow_mock.state("us-east-1").connector_profiles) == sorted(live)


@_PROPERTY_SETTINGS
@given(secret=st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=40),
       member=st.sampled_from(["clientId", "clientSecret", "accessToken"]))
def test_invalid_credentials_never_echo_the_secret(client, appflow_mock, secret, member):
    appflow_mock.reset()
    value = f"SECRET-{secret} tail"  # the space breaks the \S+ pattern
    req = profile_request("zd")
    req["connectorProfileConfig"]["connectorProfileCredentials"]["Zendesk"][member] = value
    msg = expect_error(client.create_connector_profile, "ValidationException", 400, **req)
    assert "SECRET-" not in msg and REDACTED in msg
    assert f"at 'connectorProfileConfig.connectorProfileCredentials.Zendesk.{member}'" in msg
    assert len(appflow_mock.state("us-east-1").connector_profiles) == 0


@_PROPERTY_SETTINGS
@given(name=st.from_regex(r"[A-Za-z0-9_/!@#+=.-]{1,40}", fullmatch=True))
def test_any_valid_profile_name_round_trips(client, appflow_mock, name):
    appflow_mock.reset()
    arn = client.create_connector_profile(**profile_request(name))["connectorProfileArn"]
    assert arn == f"arn:aws:appflow:us-east-1:{ACCOUNT}:connectorprofile/{name}"
    [d] = client.describe_connector_profiles(connectorProfileNames=[name])["connectorProfileDetails"]
    assert d["connectorProfileName"] == name
    client.delete_connector_profile(connectorProfileName=name)
    assert client.describe_connector_profiles()["connectorProfileDetails"] == []


def test_delete_in_use_as_a_destination_is_a_conflict(client):
    from tests.helpers import projection_tasks, s3_source

    client.create_connector_profile(**profile_request("sf-out", "Salesforce"))
    dest = {"connectorType": "Salesforce", "connectorProfileName": "sf-out",
            "destinationConnectorProperties": {"Salesforce": {"object": "Account"}}}
    client.create_flow(**flow_request("to-sf", source=s3_source(), destination=dest,
                                      tasks=projection_tasks("S3", ["Name"])))
    msg = expect_error(client.delete_connector_profile, "ConflictException", 409, connectorProfileName="sf-out")
    assert "to-sf" in msg
    client.delete_connector_profile(connectorProfileName="sf-out", forceDelete=True)
    assert client.describe_connector_profiles()["connectorProfileDetails"] == []


def test_flow_whose_profile_was_force_deleted_cannot_run_successfully(client):
    client.create_connector_profile(**profile_request("sf", "Salesforce"))
    client.create_flow(**flow_request("uses-sf", source=salesforce_source("sf")))
    client.delete_connector_profile(connectorProfileName="sf", forceDelete=True)
    try:
        execution_id = client.start_flow(flowName="uses-sf")["executionId"]
    except ClientError:
        return
    [record] = [r for r in client.describe_flow_execution_records(flowName="uses-sf")["flowExecutions"]
                if r["executionId"] == execution_id]
    assert record["executionStatus"] != "Successful"


_BAD = "leaky secret value"  # the space breaks every credential's \S+ pattern


def _custom_credentials(creds: Dict[str, Any]) -> Dict[str, Any]:
    req = custom_profile_request("cp", "acme")
    req["connectorProfileConfig"]["connectorProfileCredentials"] = {"CustomConnector": creds}
    return req


def _with_credentials(connector_type: str, member: str, creds: Dict[str, Any]) -> Dict[str, Any]:
    req = profile_request("p", connector_type)
    req["connectorProfileConfig"]["connectorProfileCredentials"] = {member: creds}
    return req


def _custom(creds: Dict[str, Any], where: str) -> Any:
    return pytest.param(_custom_credentials(creds), where, marks=needs_custom_connectors)


@pytest.mark.parametrize("req, where", [
    _custom({"authenticationType": "CUSTOM", "custom": {
        "customAuthenticationType": "token", "credentialsMap": {"token": _BAD}}},
        "CustomConnector.custom.credentialsMap"),
    _custom({"authenticationType": "CUSTOM", "custom": {
        "customAuthenticationType": "token", "credentialsMap": {_BAD: "v"}}},
        "CustomConnector.custom.credentialsMap"),
    _custom({"authenticationType": "OAUTH2", "oauth2": {"clientId": "cid", "clientSecret": _BAD}},
            "CustomConnector.oauth2.clientSecret"),
    _custom({"authenticationType": "OAUTH2", "oauth2": {"clientId": "cid", "refreshToken": _BAD}},
            "CustomConnector.oauth2.refreshToken"),
    _custom({"authenticationType": "BASIC", "basic": {"username": "u", "password": "p" * 600 + _BAD}},
            "CustomConnector.basic.password"),
    _custom({"authenticationType": "APIKEY", "apiKey": {"apiKey": _BAD, "apiSecretKey": "x"}},
            "CustomConnector.apiKey.apiKey"),
    (_with_credentials("Snowflake", "Snowflake", {"username": "u", "password": "p" * 600 + _BAD}),
     "Snowflake.password"),
    (_with_credentials("Servicenow", "ServiceNow", {"username": "u", "password": "p" * 600 + _BAD}),
     "ServiceNow.password"),
    (_with_credentials("Salesforce", "Salesforce", {"oAuthRequest": {"authCode": _BAD}}),
     "Salesforce.oAuthRequest.authCode"),
    pytest.param(_with_credentials("Salesforce", "Salesforce", {"accessToken": "a", "jwtToken": _BAD}),
                 "Salesforce.jwtToken", marks=requires_member("SalesforceConnectorProfileCredentials", "jwtToken")),
])
def test_no_credential_is_ever_echoed(client, appflow_mock, req, where):
    if req["connectorType"] == "CustomConnector":
        register(client, "acme")
    msg = expect_error(client.create_connector_profile, "ValidationException", 400, **req)
    assert "leaky" not in msg and "pppp" not in msg, msg
    assert REDACTED in msg
    assert f"at 'connectorProfileConfig.connectorProfileCredentials.{where}'" in msg
    assert len(appflow_mock.state("us-east-1").connector_profiles) == 0


@needs_update_token
def test_retried_update_does_not_reapply_an_older_change(client):
    client.create_connector_profile(**profile_request("zd"))
    first = _update_request("zd", clientToken="upd-1")
    first["connectorProfileConfig"]["connectorProfileProperties"]["Zendesk"]["instanceUrl"] = "https://one.zendesk.com"
    second = _update_request("zd", clientToken="upd-2")
    second["connectorProfileConfig"]["connectorProfileProperties"]["Zendesk"]["instanceUrl"] = "https://two.zendesk.com"
    client.update_connector_profile(**first)
    client.update_connector_profile(**second)
    client.update_connector_profile(**first)  # a late retry of the first request
    [d] = client.describe_connector_profiles()["connectorProfileDetails"]
    assert d["connectorProfileProperties"]["Zendesk"]["instanceUrl"] == "https://two.zendesk.com"


# -- every connector type that has profiles ----------------------------------------------------------

_MORE_CONFIGS = {
    "Amplitude": ("Amplitude", {}, {"apiKey": "k", "secretKey": "amplitude-secret"}),
    "Datadog": ("Datadog", {"instanceUrl": "https://app.datadoghq.com"},
                {"apiKey": "k", "applicationKey": "datadog-secret"}),
    "Dynatrace": ("Dynatrace", {"instanceUrl": "https://abc.live.dynatrace.com"}, {"apiToken": "dynatrace-secret"}),
    "Googleanalytics": ("GoogleAnalytics", {}, {"clientId": "cid", "clientSecret": "ga-secret-value"}),
    "Infornexus": ("InforNexus", {"instanceUrl": "https://nexus.example.com"},
                   {"accessKeyId": "AKID", "userId": "u", "secretAccessKey": "nexus-secret", "datakey": "dk"}),
    "Singular": ("Singular", {}, {"apiKey": "singular-secret"}),
    "Trendmicro": ("Trendmicro", {}, {"apiSecretKey": "trend-secret"}),
    "Veeva": ("Veeva", {"instanceUrl": "https://x.veevavault.com"}, {"username": "u", "password": "veeva-secret"}),
    "SAPOData": ("SAPOData", {"applicationHostUrl": "https://sap.example.com", "applicationServicePath": "/sap/opu",
                              "portNumber": 443, "clientNumber": "100"},
                 {"basicAuthCredentials": {"username": "u", "password": "sap-secret"}}),
    "Pardot": ("Pardot", {"instanceUrl": "https://pi.pardot.com", "businessUnitId": "0Uv000000000001"},
               {"accessToken": "pardot-secret"}),
}


@pytest.mark.parametrize("connector_type", enum_params(sorted(_MORE_CONFIGS)))
def test_other_connector_types_create_with_minimal_config(client, appflow_mock, connector_type):
    member, props, creds = _MORE_CONFIGS[connector_type]
    req = {"connectorProfileName": f"p-{connector_type}", "connectorType": connector_type, "connectionMode": "Public",
           "connectorProfileConfig": {"connectorProfileProperties": {member: props},
                                      "connectorProfileCredentials": {member: creds}}}
    client.create_connector_profile(**req)
    [d] = client.describe_connector_profiles(connectorType=connector_type)["connectorProfileDetails"]
    assert d["connectorProfileProperties"] == {member: props}
    text = dump(d) + repr(appflow_mock.state("us-east-1").connector_profiles)
    assert_no_secret(text, secrets_of(req))


@pytest.mark.parametrize("connector_type", ["EventBridge", "LookoutMetrics", "Upsolver", "CustomerProfiles", "S3"])
def test_connectors_without_profiles_reject_profiles(client, appflow_mock, connector_type):
    req = {"connectorProfileName": "p", "connectorType": connector_type, "connectionMode": "Public",
           "connectorProfileConfig": without_credentials({"connectorProfileProperties": {}})}
    msg = expect_error(client.create_connector_profile, "ValidationException", 400, **req)
    assert connector_type.upper() in msg
    assert len(appflow_mock.state("us-east-1").connector_profiles) == 0


@requires_enum_value("ConnectorType", "SAPOData")
def test_sapodata_constraints_are_checked(client, appflow_mock):
    member, props, creds = _MORE_CONFIGS["SAPOData"]
    req = {"connectorProfileName": "sap", "connectorType": "SAPOData", "connectionMode": "Public",
           "connectorProfileConfig": {"connectorProfileProperties": {member: dict(props, portNumber=70000,
                                                                                     clientNumber="1000")},
                                      "connectorProfileCredentials": {member: creds}}}
    msg = expect_error(client.create_connector_profile, "ValidationException", 400, **req)
    # clientNumber "1000" breaks both its length (3) and its pattern.
    assert msg.startswith("3 validation errors detected: ")
    assert ("Value '70000' at 'connectorProfileConfig.connectorProfileProperties.SAPOData.portNumber' failed to "
            "satisfy constraint: Member must have value less than or equal to 65535") in msg
    assert "at 'connectorProfileConfig.connectorProfileProperties.SAPOData.clientNumber'" in msg
    assert len(appflow_mock.state("us-east-1").connector_profiles) == 0


def test_profile_state_can_be_snapshotted_without_revealing_credentials(client, appflow_mock):
    import dataclasses

    client.create_connector_profile(**profile_request("zd"))
    state = appflow_mock.state("us-east-1")
    before = copy.deepcopy(dict(state.connector_profiles))
    expect_error(client.update_connector_profile, "ValidationException", 400,
                 **_update_request("zd", connectionMode="Hybrid"))
    assert dict(state.connector_profiles) == before
    as_dict = dataclasses.asdict(state.connector_profiles["zd"])
    assert as_dict["name"] == "zd"
    assert "zendesk-secret" not in repr(as_dict)


# -- concurrency ---------------------------------------------------------------------------------

def _create_from_threads(requests: List[Dict[str, Any]]) -> List[str]:
    """Create each request from its own thread and client; the outcome code of each."""
    import threading

    clients = [boto3.session.Session().client("appflow", region_name="us-east-1") for _ in requests]
    outcomes: List[str] = [""] * len(requests)
    barrier = threading.Barrier(len(requests))

    def run(i: int) -> None:
        barrier.wait()
        try:
            clients[i].create_connector_profile(**requests[i])
            outcomes[i] = "ok"
        except ClientError as exc:
            outcomes[i] = exc.response["Error"]["Code"]

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(requests))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


def test_quota_holds_under_concurrent_creates(client, appflow_mock):
    appflow_mock.set_quota("connector_profiles", 5)
    outcomes = _create_from_threads([profile_request(f"p{i}") for i in range(16)])
    assert outcomes.count("ok") == 5
    assert outcomes.count("ServiceQuotaExceededException") == 11
    assert len(all_profiles(client)) == 5


def test_one_winner_when_the_same_name_is_created_concurrently(client):
    outcomes = _create_from_threads([profile_request("same") for _ in range(8)])
    assert outcomes.count("ok") == 1
    assert outcomes.count("ConflictException") == 7
    assert names(all_profiles(client)) == ["same"]
