"""Connector profiles: create, describe (filters, pagination), update, delete.

Credentials are kept where AppFlow keeps them, in a Secrets Manager secret (the profile's
``credentialsArn``; ``aws/secrets.py``: the embedded store, moto's, or the one at an endpoint), and
are never returned, logged or shown in a repr. A profile of a custom connector on the Lambda
protocol is validated by the connector (ValidateConnectorRuntimeSettings, then ValidateCredentials,
which reads the secret): a failure removes the secret again. Every check runs before the profile is
written, so a failed request changes no state.
"""
from __future__ import annotations

import copy
from typing import Any, Dict, List, Optional

from appflow_emu.aws.secrets import SecretNotFound
from appflow_emu.backend.handlers import handles
from appflow_emu.backend.lambda_connectors import (
    api_error,
    authentication_type_of,
    credentials_of,
    missing_settings,
    profile_connector,
    profile_settings,
    secret_value,
    secrets_for,
)
from appflow_emu.backend.pagination import listing
from appflow_emu.backend.resources import ConnectorProfile
from appflow_emu.backend.runtime import Call, RegionState
from appflow_emu.catalog.connectors import ConnectorFacts, facts
from appflow_emu.model.errors import AppFlowError, conflict, not_found, validation
from appflow_emu.model.service import requires_members
from appflow_emu.simulator.lambda_protocol import PROFILE_SCOPE, ConnectorError, LambdaConnector

DEFAULT_PAGE = 20  # [guess] the service's default page size when maxResults is absent


def _check_config(state: RegionState, f: ConnectorFacts, config: Dict[str, Any],
                  label: Optional[str]) -> None:
    if not f.needs_profile:
        raise validation(f"Validation exception: Connector profiles are not supported for connector: {f.upper_name}")
    properties = config.get("connectorProfileProperties") or {}
    others = [k for k in properties if k != f.profile_member]
    if others:
        raise validation(
            f"Validation exception: connectorProfileProperties for {', '.join(others)} "
            f"do not match connector: {f.upper_name}"
        )
    props_shape_required = f.profile_member is not None and requires_members("ConnectorProfileProperties", f.profile_member)
    if props_shape_required and f.profile_member not in properties:
        raise validation(f"Validation exception: ConnectorProfileProperties cannot be blank for connector: {f.upper_name}")
    credentials = config.get("connectorProfileCredentials") or {}
    others = [k for k in credentials if k != f.credentials_member]
    if others:
        raise validation(
            f"Validation exception: connectorProfileCredentials for {', '.join(others)} "
            f"do not match connector: {f.upper_name}"
        )
    mine = credentials.get(f.credentials_member) if f.credentials_member else None
    if f.credentials_member and f.connector_type not in CREDENTIALS_OPTIONAL and not mine:
        raise validation(f"Validation exception: Credentials cannot be blank for connector: {f.upper_name}")
    oauth = (mine or {}).get("oAuthRequest") if isinstance(mine, dict) else None
    if oauth is not None and not oauth.get("authCode"):
        raise validation(f"Validation exception: AuthCode cannot be blank for connector: {f.upper_name}")
    if f.connector_type == "CustomConnector":
        if not label:
            raise validation("Validation exception: connectorLabel is required for connector: CUSTOMCONNECTOR")
        if label not in state.registrations:
            # [seen: cdk-appflow#21, terraform-provider-aws#37826] "(Service: Appflow, Status Code: 404)"
            raise not_found(
                f"Connector:{label} is not registered. Please register it first before creating ConnectorProfile."
            )


# [guess] Redshift may authenticate with the Data API role alone.
CREDENTIALS_OPTIONAL = frozenset({"Redshift"})


def _private_state(mode: str) -> Optional[Dict[str, Any]]:
    return {"status": "CREATED"} if mode == "Private" else None


@handles("CreateConnectorProfile")
def create_connector_profile(call: Call, p: Dict[str, Any]) -> Dict[str, Any]:
    state = call.state
    name = p["connectorProfileName"]
    f = facts(p["connectorType"])
    if name in state.profiles:
        raise conflict(f"Connector Profile with name {name} already exists.")
    config = p["connectorProfileConfig"]
    _check_config(state, f, config, p.get("connectorLabel"))
    quota = call.runtime.quotas["connector_profiles"]
    if len(state.profiles) >= quota:
        raise AppFlowError(
            "ServiceQuotaExceededException",
            f"The number of connector profiles in this account and region has reached the limit of {quota}.",
        )
    ms = int(call.now * 1000)
    credentials = config.get("connectorProfileCredentials")
    profile = ConnectorProfile(
        name=name,
        arn=state.arn("connectorprofile", name),
        connector_type=p["connectorType"],
        connection_mode=p["connectionMode"],
        properties=copy.deepcopy(config.get("connectorProfileProperties") or {}),
        credentials_arn="",
        created_at=call.now,
        last_updated_at=call.now,
        # [guess] The label only means something for custom connectors ("only needed if calling
        # for CUSTOMCONNECTOR"); on other types it is ignored, not stored and echoed.
        connector_label=p.get("connectorLabel") if p["connectorType"] == "CustomConnector" else None,
        private_state=_private_state(p["connectionMode"]),
        authentication_type=authentication_type_of(p["connectorType"], credentials),
    )
    connector = _connector(call, profile)  # before the secret exists: a connector that cannot be reached fails here
    secrets = secrets_for(call.runtime, state, call.now)
    # [seen] AppFlow's secret name: appflow!{account}-{profile name}-{ms timestamp}, and the ARN's
    # six-character suffix (moto's own when the secret is moto's).
    profile.credentials_arn = _store(lambda: secrets.create(f"appflow!{state.account_id}-{name}-{ms}",
                                                            secret_value(profile.connector_type, credentials),
                                                            call.runtime.random_chars(6)))
    if connector is not None:
        try:
            _validate(connector, profile)
        except AppFlowError:
            _forget(lambda: secrets.delete(profile.credentials_arn))
            raise
    state.profiles.add(name, profile)
    return {"connectorProfileArn": profile.arn}


def _connector(call: Call, profile: ConnectorProfile) -> Optional[LambdaConnector]:
    """The Lambda-backed connector a CustomConnector profile is for (None otherwise). [guess] The
    CONNECTOR_PROFILE runtime settings the connector declared required must be given: AppFlow holds
    its configuration and checks them before it asks the connector."""
    if profile.connector_type != "CustomConnector":
        return None
    try:
        connector = profile_connector(call.runtime, call.state, profile, "ValidateCredentialsRequest")
    except ConnectorError as e:
        raise api_error(e) from None
    if connector is not None:
        registration = call.state.registration(str(profile.connector_label))
        missing = missing_settings(registration, PROFILE_SCOPE, profile_settings(profile.properties))
        if missing:
            raise validation(f"Validation exception: the connector {registration.label} requires the connector "
                             f"profile properties {', '.join(missing)} (profileProperties)")
    return connector


def _validate(connector: LambdaConnector, profile: ConnectorProfile) -> None:
    """[doc: the Java SDK's README, step 4] A custom connector validates a profile: its credentials
    (the connector reads the secret), then its CONNECTOR_PROFILE runtime settings."""
    connector.credentials = credentials_of(profile)
    settings = profile_settings(profile.properties)
    connector.profile_settings = settings
    try:
        connector.validate_credentials(settings)
        connector.validate_runtime_settings(PROFILE_SCOPE, settings)
    except ConnectorError as e:
        raise api_error(e) from None


def _store(write: Any) -> Any:
    """Write to Secrets Manager; a Secrets Manager that fails (moto without its extras, an endpoint
    that is down) is AppFlow's InternalServerException, and nothing is created."""
    try:
        return write()
    except SecretNotFound as e:
        raise AppFlowError("InternalServerException", f"The connector profile's secret {e.args[0]} does not "
                                                      "exist in Secrets Manager.") from None
    except AppFlowError:
        raise
    except Exception as e:  # noqa: BLE001 - botocore errors of moto or an endpoint
        raise AppFlowError("InternalServerException", f"AppFlow could not store the connector profile's "
                                                      f"credentials in Secrets Manager: {type(e).__name__}: {e}") from None


def _forget(delete: Any) -> None:
    """Remove a secret that is no longer needed; one already gone is fine."""
    try:
        delete()
    except SecretNotFound:
        pass


def describe_profile(profile: ConnectorProfile) -> Dict[str, Any]:
    out: Dict[str, Any] = {
        "connectorProfileArn": profile.arn,
        "connectorProfileName": profile.name,
        "connectorType": profile.connector_type,
        "connectionMode": profile.connection_mode,
        "credentialsArn": profile.credentials_arn,
        "connectorProfileProperties": profile.properties,
        "createdAt": profile.created_at,
        "lastUpdatedAt": profile.last_updated_at,
    }
    if profile.connector_label is not None:
        out["connectorLabel"] = profile.connector_label
    if profile.private_state is not None:
        out["privateConnectionProvisioningState"] = profile.private_state
    return out


@handles("DescribeConnectorProfiles")
def describe_connector_profiles(call: Call, p: Dict[str, Any]) -> Dict[str, Any]:
    names = p.get("connectorProfileNames")
    wanted = frozenset(names) if names else None
    ctype = p.get("connectorType")
    label = p.get("connectorLabel")

    def keep(profile: ConnectorProfile) -> bool:
        return ((wanted is None or profile.name in wanted)
                and (ctype is None or profile.connector_type == ctype)
                and (label is None or profile.connector_label == label))

    filtered = wanted is not None or ctype is not None or label is not None
    return listing(call.state.profiles, "profiles", p, "connectorProfileDetails", describe_profile,
                   DEFAULT_PAGE, keep if filtered else None)


@handles("UpdateConnectorProfile")
def update_connector_profile(call: Call, p: Dict[str, Any]) -> Dict[str, Any]:
    state = call.state
    profile = state.profile(p["connectorProfileName"])
    f = facts(profile.connector_type)
    config = p["connectorProfileConfig"]
    _check_config(state, f, config, profile.connector_label)
    credentials = config.get("connectorProfileCredentials")
    updated = copy.copy(profile)
    updated.properties = copy.deepcopy(config.get("connectorProfileProperties") or {})
    if credentials:
        updated.authentication_type = authentication_type_of(profile.connector_type, credentials) \
            or profile.authentication_type
    connector = _connector(call, updated)
    if credentials or connector is not None:
        secrets = secrets_for(call.runtime, state, call.now, profile.credentials_arn)
        old = _store(lambda: secrets.get(profile.credentials_arn)) if connector is not None and credentials else None
        if credentials:
            _store(lambda: secrets.update(profile.credentials_arn, secret_value(profile.connector_type, credentials)))
        if connector is not None:
            try:
                _validate(connector, updated)
            except AppFlowError:
                if old is not None:  # the connector refused the new credentials: the old ones stay
                    _store(lambda: secrets.update(profile.credentials_arn, old))
                raise
    profile.connection_mode = p["connectionMode"]
    profile.private_state = _private_state(p["connectionMode"])
    profile.properties = updated.properties
    profile.authentication_type = updated.authentication_type
    profile.last_updated_at = call.now
    return {"connectorProfileArn": profile.arn}


def flows_using(state: RegionState, profile_name: str) -> List[str]:
    return [flow.name for flow in state.flows if profile_name in flow.profile_names()]


@handles("DeleteConnectorProfile")
def delete_connector_profile(call: Call, p: Dict[str, Any]) -> Dict[str, Any]:
    state = call.state
    name = p["connectorProfileName"]
    state.profile(name)
    users = flows_using(state, name)
    if users and not p.get("forceDelete"):
        raise conflict(
            f"Connector Profile with name {name} is associated with flows: {', '.join(sorted(users))}. "
            "Delete the flows or use forceDelete."
        )
    profile = state.profiles.get(name)
    if profile is not None and profile.credentials_arn:
        arn = profile.credentials_arn
        secrets = secrets_for(call.runtime, state, call.now, arn)
        _store(lambda: _forget(lambda: secrets.delete(arn)))
    state.profiles.remove(name)
    state.rejected_credentials.discard(name)  # a profile made again under this name has new credentials
    return {}
