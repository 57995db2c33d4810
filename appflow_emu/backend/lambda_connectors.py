"""Custom connectors on AWS's Lambda protocol, as the backend reaches them.

A registered custom connector is *Lambda-backed* when a function answered its Lambda ARN at
registration (``ConnectorRegistration.configuration`` holds what it described): from then on
AppFlow calls that function for everything the connector does (profiles, entities, runs). Which
function answers an ARN is the neighbours' business (``aws/neighbours.py``: a function registered
with ``emu.register_lambda`` or ``serve --lambda``, moto's Lambda, a Lambda endpoint). A
registration no function answered behaves as before the Lambda protocol existed: the Python object
plugged in for the label, or the CustomConnector datasets.

This module builds the :class:`~appflow_emu.simulator.lambda_protocol.LambdaConnector` for a
registration (and a profile), keeps profile credentials in Secrets Manager as AppFlow does, and
words the API errors of a connector that fails.
"""
from __future__ import annotations

import json
from typing import Any, Dict, List, Mapping, Optional

from appflow_emu.aws.secrets import SecretStore
from appflow_emu.backend.resources import ConnectorProfile, ConnectorRegistration
from appflow_emu.backend.runtime import RegionState, Runtime
from appflow_emu.model.errors import AppFlowError
from appflow_emu.simulator.lambda_protocol import ConnectorError, LambdaConnector, authentication_type


def lambda_arn(registration: ConnectorRegistration) -> str:
    return str(((registration.provisioning_config or {}).get("lambda") or {}).get("lambdaArn") or "")


def connector_at(runtime: Runtime, label: str, arn: str) -> Optional[LambdaConnector]:
    """The connector behind ``arn`` when a function answers it, else None."""
    found = runtime.aws.function(arn)
    if found is None:
        return None
    ref, function = found
    return LambdaConnector(label=label, ref=ref, function=function, request_ids=runtime.new_request_id)


def unreachable(label: str, arn: str, request_type: str) -> ConnectorError:
    """A Lambda-backed connector whose function no longer answers its ARN. [guess: the Lambda
    service's ResourceNotFoundException, as AppFlow passes it on]"""
    return ConnectorError(label, request_type, f"its Lambda function {arn} could not be invoked: "
                          f"ResourceNotFoundException: Function not found: {arn}", "ResourceNotFoundException",
                          invoked=False)


def registered_connector(runtime: Runtime, registration: ConnectorRegistration, request_type: str,
                         profile: Optional[ConnectorProfile] = None) -> Optional[LambdaConnector]:
    """The Lambda-backed connector of ``registration`` (seen through ``profile``), or None when the
    registration is not Lambda-backed. ConnectorError when its function no longer answers."""
    if registration.configuration is None:
        return None
    arn = lambda_arn(registration)
    connector = connector_at(runtime, registration.label, arn)
    if connector is None:
        raise unreachable(registration.label, arn, request_type)
    versions = registration.configuration.get("supportedApiVersions") or []
    connector.api_version = str(versions[0]) if versions else None
    if profile is not None:
        connector.credentials = credentials_of(profile)
        connector.profile_settings = profile_settings(profile.properties)
    return connector


def profile_connector(runtime: Runtime, state: RegionState, profile: ConnectorProfile,
                      request_type: str) -> Optional[LambdaConnector]:
    """The Lambda-backed connector a CustomConnector profile reaches (None otherwise)."""
    if profile.connector_label is None:
        return None
    registration = state.registrations.get(profile.connector_label)
    if registration is None:
        return None
    return registered_connector(runtime, registration, request_type, profile)


def missing_settings(registration: ConnectorRegistration, scope: str, given: Mapping[str, Any]) -> List[str]:
    """The runtime settings of ``scope`` the connector declared required that ``given`` lacks."""
    declared = (registration.configuration or {}).get("connectorRuntimeSettings") or []
    return [str(s.get("key")) for s in declared
            if s.get("isRequired") and s.get("scope") == scope and given.get(str(s.get("key"))) in (None, "")]


def profile_settings(properties: Mapping[str, Any]) -> Dict[str, Any]:
    """A CustomConnector profile's CONNECTOR_PROFILE-scope runtime settings (``profileProperties``)."""
    custom = (properties or {}).get("CustomConnector") or {}
    return dict(custom.get("profileProperties") or {})


def credentials_of(profile: ConnectorProfile) -> Dict[str, Any]:
    """The credentials as events carry them: where the connector reads them, and their type."""
    out: Dict[str, Any] = {"secretArn": profile.credentials_arn}
    kind = authentication_type(profile.authentication_type)
    if kind is not None:
        out["authenticationType"] = kind
    return out


# -- profile credentials in Secrets Manager ----------------------------------------------------------

# What AppFlow writes in a profile's secret [guess, from the Java SDK's CredentialsProvider, which
# reads these keys: username/password, apiKey/apiSecretKey, accessToken, customAuthenticationType
# and the custom keys, and removes an ``authenticationType`` key it expects beside them]: the
# credentials member of the profile's connector type as the API took it; for a custom connector,
# its authentication type's credentials (a custom type's ``credentialsMap`` flattened), with
# ``authenticationType``. An OAuth2 request's authorization code is not kept.
_MEMBER_OF_TYPE = {"OAUTH2": "oauth2", "APIKEY": "apiKey", "BASIC": "basic", "CUSTOM": "custom"}


def secret_value(connector_type: str, credentials: Optional[Mapping[str, Any]]) -> str:
    """The secret string a profile's credentials are kept as."""
    mine: Any = dict(credentials or {})
    if len(mine) == 1:
        mine = next(iter(mine.values())) or {}
    if connector_type == "CustomConnector" and isinstance(mine, dict):
        kind = str(mine.get("authenticationType"))
        given = dict(mine.get(_MEMBER_OF_TYPE.get(kind, "")) or {})
        given.pop("oAuthRequest", None)
        if kind == "CUSTOM":
            given = {"customAuthenticationType": given.get("customAuthenticationType"),
                     **dict(given.get("credentialsMap") or {})}
        mine = {"authenticationType": kind, **given}
    elif isinstance(mine, dict):
        mine.pop("oAuthRequest", None)
    return json.dumps(mine, sort_keys=True, default=str)


def authentication_type_of(connector_type: str, credentials: Optional[Mapping[str, Any]]) -> Optional[str]:
    """A custom connector profile's authentication type (AppFlow's spelling), else None."""
    if connector_type != "CustomConnector":
        return None
    mine = (credentials or {}).get("CustomConnector") or {}
    value = mine.get("authenticationType") if isinstance(mine, dict) else None
    return str(value) if value else None


def secrets_for(runtime: Runtime, state: RegionState, now: float, arn: Optional[str] = None) -> SecretStore:
    """The Secrets Manager a profile's secret goes to (or is in, for ``arn``)."""
    if arn is not None:
        return runtime.aws.secrets_holding(arn, state.account_id, state.region, now, runtime.new_uuid)
    return runtime.aws.secrets(state.account_id, state.region, now, runtime.new_uuid)


# -- errors at the API --------------------------------------------------------------------------------

# [guess] A connector's own error codes (the SDK's ErrorCode) as AppFlow's API exceptions: rejected
# credentials are ConnectorAuthenticationException (401); every other failure of the connector, or
# of invoking its function, is ConnectorServerException (400).
AUTHENTICATION_ERRORS = frozenset({"InvalidCredentials", "AccessDenied"})


def api_error(error: ConnectorError) -> AppFlowError:
    """[guess] Credentials the connector rejects (ValidateCredentials answering isSuccess false, or
    an InvalidCredentials/AccessDenied error code) are ConnectorAuthenticationException; every other
    failure of the connector or of its function is ConnectorServerException."""
    rejected = error.error_code in AUTHENTICATION_ERRORS or (
        error.request_type == "ValidateCredentialsRequest" and error.answer is not None)
    code = "ConnectorAuthenticationException" if rejected else "ConnectorServerException"
    return AppFlowError(code, error.api_message)
