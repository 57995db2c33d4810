"""AppFlow's side of AWS's custom connector protocol: the events AppFlow sends a custom connector's
Lambda, and what it makes of the answers.

AWS's ``custom-connector-sdk`` is the specification: every event built here is one its
``custom_connector_sdk.lambda_handler.requests`` classes read (``type`` names the request class), and
every answer is read as its ``responses`` classes write them. docs/catalog.md has the table of
events (what AppFlow sends when, what it does with the answer), each rule tagged [doc], [seen] or
[guess].

:class:`LambdaConnector` is one registered connector reached through one connector profile: the
function answering its Lambda ARN (``aws/lambdas.py``), the profile's credentials as the events carry
them (the secret's ARN and the authentication type) and its connector-profile runtime settings.
Whatever goes wrong on the connector's side (its handler raised, its answer is not JSON or not the
response the request asks for, or it answered ``isSuccess: false``) raises :class:`ConnectorError`,
naming the connector, the request type and the connector's own message; the backend turns it into
an API error, a run into its executionMessage.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterator, List, Mapping, Optional, Sequence

from appflow_emu.aws.lambdas import Function, FunctionError, FunctionRef

DESCRIBE_CONNECTOR_CONFIGURATION = "DescribeConnectorConfigurationRequest"
VALIDATE_CONNECTOR_RUNTIME_SETTINGS = "ValidateConnectorRuntimeSettingsRequest"
VALIDATE_CREDENTIALS = "ValidateCredentialsRequest"
LIST_ENTITIES = "ListEntitiesRequest"
DESCRIBE_ENTITY = "DescribeEntityRequest"
QUERY_DATA = "QueryDataRequest"
RETRIEVE_DATA = "RetrieveDataRequest"
WRITE_DATA = "WriteDataRequest"

LOCALE = "en-US"  # [guess] the locale AppFlow asks the configuration in (the SDK's default)
PAGE_SIZE = 1000  # [guess] maxResults / maxResult AppFlow asks for (the SDK's DEFAULT_MAX_RESULT)
WRITE_BATCH = 1000  # [guess] records per WriteDataRequest
MAX_PAGES = 100_000  # a connector that keeps answering a nextToken is stopped here

# [doc] the SDK's ConnectorRuntimeSettingScope values
PROFILE_SCOPE = "CONNECTOR_PROFILE"
SOURCE_SCOPES = ("SOURCE", "SOURCE_AND_DESTINATION")
DESTINATION_SCOPES = ("DESTINATION", "SOURCE_AND_DESTINATION")

# [guess] AppFlow's API spells authentication types OAUTH2, APIKEY, BASIC, CUSTOM; the SDK reads
# ``credentials.authenticationType`` as the name of its AuthenticationType enum (OAuth2, ApiKey,
# BasicAuth, CustomAuth), and an event it cannot read fails every call: events carry the SDK's names.
AUTHENTICATION_TYPES = {"OAUTH2": "OAuth2", "APIKEY": "ApiKey", "BASIC": "BasicAuth", "CUSTOM": "CustomAuth"}
# [doc] the SDK's TriggerType values as AppFlow's API spells them, in the order AppFlow reports them
# [seen: AWS's captured DescribeConnector reports ["OnDemand", "Scheduled"] for a connector that
# declared the SDK's default, SCHEDULED then ONDEMAND]
TRIGGER_TYPES = {"ONDEMAND": "OnDemand", "SCHEDULED": "Scheduled", "EVENT": "Event"}


class ConnectorError(Exception):
    """The connector did not answer the request as the protocol asks (see the module docstring).
    ``error_code`` is the connector's own (the SDK's ErrorCode names) when it gave one; ``answered``
    tells a connector that answered with error details from one that raised or answered nothing
    readable. ``str(error)`` is the text a run reports; :attr:`api_message` what an API error says."""

    def __init__(self, label: str, request_type: str, detail: str, error_code: Optional[str] = None,
                 invoked: bool = True, answered: bool = False) -> None:
        self.label = label
        self.request_type = request_type
        self.detail = detail
        self.error_code = error_code
        self.invoked = invoked
        self.answered = answered
        self.answer: Optional[Dict[str, Any]] = None
        super().__init__(f"The custom connector {label} failed {request_type}: {detail}")

    @property
    def message(self) -> str:
        return str(self.args[0])

    @property
    def api_message(self) -> str:
        """[seen: terraform-provider-aws#34422] ``Error while communicating to connector: Got error
        from connector. No valid response and error details found in the connector response.`` for a
        connector whose answer has no valid response; the connector's own message otherwise
        [guess]. Either way the connector, the request and the detail are named."""
        if self.answered:
            return f"Error while communicating to connector: {self.message}"
        return ("Error while communicating to connector: Got error from connector. No valid response and error "
                f"details found in the connector response. {self.message}")


def authentication_type(api_value: Optional[str]) -> Optional[str]:
    """The SDK's name for one of AppFlow's authentication types."""
    if api_value is None:
        return None
    return AUTHENTICATION_TYPES.get(api_value, api_value)


def _settings(values: Optional[Mapping[str, Any]]) -> Dict[str, Any]:
    return dict(values or {})


@dataclass
class LambdaConnector:
    """One registered custom connector as seen through one connector profile (or none: registering
    asks the connector's configuration before any profile exists)."""

    label: str
    ref: FunctionRef
    function: Function
    request_ids: Callable[[], str]
    credentials: Optional[Dict[str, Any]] = None  # {"secretArn", "authenticationType"} as events carry it
    profile_settings: Dict[str, Any] = field(default_factory=dict)  # CONNECTOR_PROFILE-scope runtime settings
    api_version: Optional[str] = None  # the profile's default: the connector's first supported version
    # [doc: the Java SDK's README] a run's connectorContext also names the flow, the run and the profile
    run_context: Dict[str, Any] = field(default_factory=dict)

    # -- invoking ------------------------------------------------------------------------------------
    def call(self, event: Dict[str, Any]) -> Dict[str, Any]:
        """Invoke the function with ``event``; its answer, which must be a JSON object with
        ``isSuccess`` true (else ConnectorError)."""
        request_type = str(event["type"])
        try:
            answer = self.function.invoke(event, self.ref, self.request_ids())
        except FunctionError as e:
            if not e.invoked:
                raise ConnectorError(self.label, request_type, f"its Lambda function {self.ref.arn} could not be "
                                     f"invoked: {e.error_type}: {e.message}", e.error_type, invoked=False) from None
            raise ConnectorError(self.label, request_type, f"its Lambda function {self.ref.arn} returned an error: "
                                 f"{e.error_type}: {e.message}") from None
        if not isinstance(answer, dict):
            raise ConnectorError(self.label, request_type, f"its Lambda function answered "
                                 f"{_kind(answer)} instead of a {request_type.replace('Request', 'Response')} object")
        if answer.get("isSuccess") is not True:
            details = _object(answer.get("errorDetails"))
            code = details.get("errorCode")
            text = details.get("errorMessage") or (f"isSuccess is {json.dumps(answer.get('isSuccess'))}"
                                                   + (f" ({code})" if code else ""))
            error = ConnectorError(self.label, request_type, str(text), str(code) if code else None,
                                   answered=bool(details.get("errorMessage")))
            error.answer = answer
            raise error
        return answer

    def context(self, settings: Optional[Mapping[str, Any]] = None, api_version: Optional[str] = None,
                entity_definition: Optional[Mapping[str, Any]] = None) -> Dict[str, Any]:
        """The ``connectorContext`` of an event: the API version, the runtime settings (the profile's
        CONNECTOR_PROFILE settings, then the flow's for its scope) [guess: both: AWS's example connector
        reads its profile-scope ``instanceUrl`` from a QueryDataRequest's context], the credentials,
        and the entity's definition as the connector described it."""
        out: Dict[str, Any] = {"apiVersion": api_version or self.api_version,
                               "connectorRuntimeSettings": {**self.profile_settings, **_settings(settings)},
                               **self.run_context}
        if self.credentials is not None:
            out["credentials"] = dict(self.credentials)
        if entity_definition is not None:
            out["entityDefinition"] = entity_definition
        return out

    # -- the requests ------------------------------------------------------------------------------
    def describe_configuration(self) -> Dict[str, Any]:
        """[doc] RegisterConnector / UpdateConnectorRegistration ask the connector's configuration."""
        answer = self.call({"type": DESCRIBE_CONNECTOR_CONFIGURATION, "locale": LOCALE})
        return connector_configuration(self.label, answer)

    def validate_runtime_settings(self, scope: str, settings: Mapping[str, Any]) -> None:
        answer = self._validation_call({"type": VALIDATE_CONNECTOR_RUNTIME_SETTINGS, "scope": scope,
                                        "connectorRuntimeSettings": _settings(settings)})
        del answer

    def validate_credentials(self, settings: Mapping[str, Any]) -> None:
        event: Dict[str, Any] = {"type": VALIDATE_CREDENTIALS, "credentials": dict(self.credentials or {}),
                                 "connectorRuntimeSettings": _settings(settings)}
        self._validation_call(event)

    def _validation_call(self, event: Dict[str, Any]) -> Dict[str, Any]:
        """A validation's failure carries the connector's message; a ValidateConnectorRuntimeSettings
        answer's ``errorsByInputField`` is part of it."""
        try:
            return self.call(event)
        except ConnectorError as e:
            by_field = (e.answer or {}).get("errorsByInputField")
            if isinstance(by_field, dict) and by_field:
                fields = "; ".join(f"{k}: {v}" for k, v in by_field.items())
                raise ConnectorError(e.label, e.request_type, f"{e.detail} ({fields})" if e.answered else fields,
                                     e.error_code, answered=True) from None
            raise

    def list_entities(self, entities_path: Optional[str], api_version: Optional[str]) -> List[Dict[str, Any]]:
        """[doc] ListEntities, following the connector's ``nextToken`` until it gives none; AppFlow's
        ``ConnectorEntity`` items in the connector's order."""
        entities: List[Dict[str, Any]] = []
        token: Optional[str] = None
        for _ in range(MAX_PAGES):
            event: Dict[str, Any] = {"type": LIST_ENTITIES, "connectorContext": self.context(api_version=api_version),
                                     "maxResult": PAGE_SIZE}
            if entities_path:
                event["entitiesPath"] = entities_path
            if token:
                event["nextToken"] = token
            answer = self.call(event)
            for item in _list_member(self, LIST_ENTITIES, answer, "entities"):
                entities.append(connector_entity(self, item))
            token = _token(self, LIST_ENTITIES, answer)
            if not token:
                return entities
        raise ConnectorError(self.label, LIST_ENTITIES, f"it answered a nextToken {MAX_PAGES} times")

    def describe_entity(self, entity: str, api_version: Optional[str]) -> Dict[str, Any]:
        """[doc] DescribeEntity: the connector's ``entityDefinition`` as it gave it (runs send it back
        in ``connectorContext``); :func:`entity_fields` maps it to AppFlow's fields."""
        answer = self.call({"type": DESCRIBE_ENTITY, "entityIdentifier": entity,
                            "connectorContext": self.context(api_version=api_version)})
        definition = answer.get("entityDefinition")
        if not isinstance(definition, dict) or not isinstance(definition.get("fields"), list):
            raise ConnectorError(self.label, DESCRIBE_ENTITY, f"its answer has no entityDefinition with fields "
                                 f"for {entity}")
        return definition

    def query(self, entity: str, api_version: Optional[str], definition: Mapping[str, Any],
              settings: Mapping[str, Any], selected: Optional[Sequence[str]], expression: Optional[str],
              page_size: int = PAGE_SIZE) -> Iterator[str]:
        """[doc] QueryData, page after page (the connector's ``nextToken``): the records as the JSON
        strings the connector returned."""
        token: Optional[str] = None
        context = self.context(settings, api_version, definition)
        for _ in range(MAX_PAGES):
            event: Dict[str, Any] = {"type": QUERY_DATA, "entityIdentifier": entity, "connectorContext": context,
                                     "maxResults": page_size}
            if selected is not None:
                event["selectedFieldNames"] = list(selected)
            if expression:
                event["filterExpression"] = expression
            if token:
                event["nextToken"] = token
            answer = self.call(event)
            records = answer.get("records")
            if records is not None and not isinstance(records, list):
                raise ConnectorError(self.label, QUERY_DATA, f"its records are {_kind(records)}, not a list")
            yield from records or ()
            token = _token(self, QUERY_DATA, answer)
            if not token:
                return
        raise ConnectorError(self.label, QUERY_DATA, f"it answered a nextToken {MAX_PAGES} times")

    def write(self, entity: str, api_version: Optional[str], definition: Optional[Mapping[str, Any]],
              settings: Mapping[str, Any], operation: str, id_fields: Sequence[str], records: List[str],
              all_or_none: bool) -> List[Optional[str]]:
        """[doc] WriteData of one batch (records as JSON strings): one entry per record, None when it
        was written, else the connector's message. An answer ``isSuccess: false`` is a failure of the
        whole batch (ConnectorError), unless its errorCode is ``PartialWriteFailure`` with results
        per record [doc: the SDK's WriteDataResponse]."""
        event: Dict[str, Any] = {"type": WRITE_DATA, "entityIdentifier": entity,
                                 "connectorContext": self.context(settings, api_version, definition),
                                 "operation": operation, "records": records, "allOrNone": all_or_none}
        if id_fields:
            event["idFieldNames"] = list(id_fields)
        try:
            answer = self.call(event)
        except ConnectorError as e:
            partial = e.answer
            if e.error_code != "PartialWriteFailure" or not isinstance(partial, dict) \
                    or not isinstance(partial.get("writeRecordResults"), list):
                raise
            answer = partial
        results = answer.get("writeRecordResults")
        if results is None:
            return [None] * len(records)  # [guess] success without results: every record was written
        if not isinstance(results, list) or len(results) != len(records):
            count = len(results) if isinstance(results, list) else _kind(results)
            raise ConnectorError(self.label, WRITE_DATA, f"it answered {count} writeRecordResults "
                                 f"for {len(records)} records")
        return [_write_result(r) for r in results]


# -- reading answers --------------------------------------------------------------------------------

def _object(value: Any) -> Dict[str, Any]:
    """A member that should be a JSON object, or {} when it is anything else."""
    return value if isinstance(value, dict) else {}


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}.get(
        type(value), "a number" if isinstance(value, (int, float)) else type(value).__name__)


def _token(connector: LambdaConnector, request_type: str, answer: Mapping[str, Any]) -> Optional[str]:
    token = answer.get("nextToken")
    if token is not None and not isinstance(token, str):
        raise ConnectorError(connector.label, request_type, f"its nextToken is {_kind(token)}, not a string")
    return token or None


def _list_member(connector: LambdaConnector, request_type: str, answer: Mapping[str, Any],
                 member: str) -> List[Any]:
    value = answer.get(member)
    if value is None:
        return []
    if not isinstance(value, list):
        raise ConnectorError(connector.label, request_type, f"its {member} is {_kind(value)}, not a list")
    return value


_WRITE_FAILED = "The custom connector rejected the record."  # [guess] a failed record without a message


def _write_result(result: Any) -> Optional[str]:
    if not isinstance(result, dict):
        return _WRITE_FAILED
    if result.get("isSuccess") is True:
        return None
    return str(result.get("errorMessage") or _WRITE_FAILED)


def record_of(connector: LambdaConnector, text: Any) -> Dict[str, Any]:
    """A record as AppFlow reads it from a QueryData answer: a JSON string of an object."""
    if not isinstance(text, str):
        raise ConnectorError(connector.label, QUERY_DATA, f"it returned a record that is {_kind(text)}, "
                             "not the JSON string of an object")
    try:
        value = json.loads(text)
    except ValueError as e:
        raise ConnectorError(connector.label, QUERY_DATA, f"it returned a record that is not JSON ({e}): "
                             f"{text[:100]!r}") from None
    if not isinstance(value, dict):
        raise ConnectorError(connector.label, QUERY_DATA, f"it returned a record that is {_kind(value)}, "
                             "not an object")
    return value


# -- the connector's configuration as AppFlow reports it ---------------------------------------------

def _bool(value: Any) -> bool:
    return bool(value) if value is not None else False


def _present(**members: Any) -> Dict[str, Any]:
    """The members that have a value (AppFlow leaves optional members out rather than null [seen])."""
    return {k: v for k, v in members.items() if v is not None}


def _strings(value: Any) -> Optional[List[str]]:
    if value is None:
        return None
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _custom_parameter(p: Mapping[str, Any]) -> Dict[str, Any]:
    return _present(key=p.get("key"), isRequired=_bool(p.get("required")), label=p.get("label"),
                    description=p.get("description"), isSensitiveField=_bool(p.get("sensitiveField")),
                    connectorSuppliedValues=_strings(p.get("connectorSuppliedValues")),
                    type=p.get("type"))


def authentication_config(config: Optional[Mapping[str, Any]]) -> Dict[str, Any]:
    """[seen: AWS's captured DescribeConnector] The SDK's AuthenticationConfig in AppFlow's
    spelling: every ``is...Supported`` flag (false when the connector leaves it out), the OAuth2
    defaults renamed (``oAuthScopes`` -> ``oauthScopes``, ``tokenURL`` -> ``tokenUrls``, ``authURL``
    -> ``authCodeUrls``, ``oAuth2GrantTypesSupported`` -> ``oauth2GrantTypesSupported``), custom
    authentication as ``customAuthConfigs``. Members AppFlow's model does not have (the SDK's
    ``refreshURL``, ``redirectURL``, content and method types) are not reported."""
    config = config or {}
    out: Dict[str, Any] = {
        "isBasicAuthSupported": _bool(config.get("isBasicAuthSupported")),
        "isApiKeyAuthSupported": _bool(config.get("isApiKeyAuthSupported")),
        "isOAuth2Supported": _bool(config.get("isOAuth2Supported")),
        "isCustomAuthSupported": _bool(config.get("isCustomAuthSupported")),
    }
    defaults = config.get("oAuth2Defaults")
    if isinstance(defaults, dict):
        custom = defaults.get("oAuth2CustomProperties")
        out["oAuth2Defaults"] = _present(
            oauthScopes=_strings(defaults.get("oAuthScopes")),
            tokenUrls=_strings(defaults.get("tokenURL")),
            authCodeUrls=_strings(defaults.get("authURL")),
            oauth2GrantTypesSupported=_strings(defaults.get("oAuth2GrantTypesSupported")),
            oauth2CustomProperties=[_custom_parameter(p) for p in custom if isinstance(p, dict)]
            if isinstance(custom, list) else None,
        )
    customs = config.get("customAuthConfig")
    if isinstance(customs, list):
        out["customAuthConfigs"] = [
            _present(customAuthenticationType=c.get("authenticationType"),
                     authParameters=[_custom_parameter(p) for p in c.get("authParameters") or () if isinstance(p, dict)])
            for c in customs if isinstance(c, dict)]
    return out


def runtime_setting(setting: Mapping[str, Any]) -> Dict[str, Any]:
    """[seen] A ConnectorRuntimeSetting: ``required`` -> ``isRequired``."""
    return _present(key=setting.get("key"), dataType=setting.get("dataType"), isRequired=_bool(setting.get("required")),
                    label=setting.get("label"), description=setting.get("description"), scope=setting.get("scope"),
                    connectorSuppliedValueOptions=_strings(setting.get("connectorSuppliedValueOptions")))


def connector_configuration(label: str, answer: Mapping[str, Any]) -> Dict[str, Any]:
    """The parts of AppFlow's ConnectorConfiguration that come from the connector's
    DescribeConnectorConfiguration answer, in the connector's own order [seen]. The SDK's defaults
    apply to lists the connector leaves out (every operator, frequency, write operation, trigger type)."""
    def need(member: str) -> Any:
        value = answer.get(member)
        if value is None:
            raise ConnectorError(label, DESCRIBE_CONNECTOR_CONFIGURATION, f"its answer has no {member}")
        return value

    modes = [str(m) for m in need("connectorModes")] if isinstance(answer.get("connectorModes"), list) else None
    if modes is None:
        raise ConnectorError(label, DESCRIBE_CONNECTOR_CONFIGURATION, "its connectorModes is not a list")
    unknown = [m for m in modes if m not in ("SOURCE", "DESTINATION")]
    if unknown or not modes:
        raise ConnectorError(label, DESCRIBE_CONNECTOR_CONFIGURATION,
                             f"its connectorModes must be SOURCE and/or DESTINATION, got {modes}")
    triggers = _strings(answer.get("supportedTriggerTypes"))
    settings = answer.get("connectorRuntimeSetting")
    return _present(
        connectorOwner=str(need("connectorOwner")),
        connectorName=str(need("connectorName")),
        connectorVersion=str(need("connectorVersion")),
        connectorModes=modes,
        authenticationConfig=authentication_config(answer.get("authenticationConfig")),
        connectorRuntimeSettings=[runtime_setting(s) for s in settings if isinstance(s, dict)]
        if isinstance(settings, list) else None,
        supportedApiVersions=_strings(answer.get("supportedApiVersions")) or [],
        supportedOperators=_strings(answer.get("operatorsSupported")),
        supportedWriteOperations=_strings(answer.get("supportedWriteOperations")),
        supportedTriggerTypes=_trigger_types(triggers),
        supportedSchedulingFrequencies=_strings(answer.get("triggerFrequenciesSupported")),
        logoURL=answer.get("logoURL"),
    )


def _trigger_types(declared: Optional[List[str]]) -> Optional[List[str]]:
    if declared is None:
        return None
    known = [api for sdk, api in TRIGGER_TYPES.items() if sdk in declared]
    return known + [t for t in declared if t not in TRIGGER_TYPES]


# -- entities ---------------------------------------------------------------------------------------

def connector_entity(connector: LambdaConnector, item: Any) -> Dict[str, Any]:
    """[seen: the SDK example's captured ListConnectorEntities] The SDK's Entity as AppFlow's
    ConnectorEntity: ``entityIdentifier`` -> ``name``, its label, ``hasNestedEntities``."""
    if not isinstance(item, dict) or not isinstance(item.get("entityIdentifier"), str):
        raise ConnectorError(connector.label, LIST_ENTITIES, f"it listed an entity without an entityIdentifier: "
                             f"{json.dumps(item, default=str)[:100]}")
    name = item["entityIdentifier"]
    return {"name": name, "label": str(item.get("label") or name), "hasNestedEntities": _bool(item.get("hasNestedEntities"))}


def _range(value: Any) -> Optional[Dict[str, Any]]:
    if not isinstance(value, dict):
        return None
    return _present(minimum=value.get("minRange"), maximum=value.get("maxRange"))


def entity_field(field_def: Mapping[str, Any]) -> Dict[str, Any]:
    """[seen: the SDK example's captured DescribeConnectorEntity] The SDK's FieldDefinition as
    AppFlow's ConnectorEntityField: ``fieldName`` -> ``identifier``; ``fieldType`` is the SDK's
    ``dataType``; ``supportedValues`` the constraints' allowed values (``[]`` without any); flags
    the connector leaves out are false; read and write properties become source and destination
    properties."""
    constraints = _object(field_def.get("constraints"))
    details = {"fieldType": str(field_def.get("dataType")),
               "filterOperators": _strings(field_def.get("filterOperators")) or [],
               "supportedValues": _strings(constraints.get("allowedValues")) or []}
    details.update(_present(valueRegexPattern=constraints.get("allowedValuesRegexPattern"),
                            supportedDateFormat=constraints.get("allowedDateFormat"),
                            fieldValueRange=_range(constraints.get("allowedValueRange")),
                            fieldLengthRange=_range(constraints.get("allowedLengthRange"))))
    read = _object(field_def.get("readProperties"))
    write = _object(field_def.get("writeProperties"))
    custom = field_def.get("customProperties")
    return _present(
        identifier=str(field_def.get("fieldName")),
        label=field_def.get("label"),
        isPrimaryKey=_bool(field_def.get("isPrimaryKey")),
        defaultValue=None if field_def.get("defaultValue") is None else str(field_def.get("defaultValue")),
        isDeprecated=_bool(field_def.get("isDeprecated")),
        supportedFieldTypeDetails={"v1": details},
        description=field_def.get("description"),
        sourceProperties={"isRetrievable": _bool(read.get("isRetrievable")),
                          "isQueryable": _bool(read.get("isQueryable")),
                          "isTimestampFieldForIncrementalQueries": _bool(read.get("isTimestampFieldForIncrementalQueries"))},
        destinationProperties={"isCreatable": _bool(write.get("isCreatable")),
                               "isNullable": _bool(write.get("isNullable")),
                               "isUpsertable": _bool(write.get("isUpsertable")),
                               "isUpdatable": _bool(write.get("isUpdatable")),
                               "isDefaultedOnCreate": _bool(write.get("isDefaultedOnCreate")),
                               "supportedWriteOperations": _strings(write.get("supportedWriteOperations")) or []},
        customProperties={str(k): str(v) for k, v in custom.items()} if isinstance(custom, dict) else None,
    )


def entity_fields(connector: LambdaConnector, definition: Mapping[str, Any]) -> List[Dict[str, Any]]:
    fields = definition.get("fields") or []
    bad = [f for f in fields if not isinstance(f, dict) or not isinstance(f.get("fieldName"), str)
           or not f.get("dataType")]
    if bad:
        raise ConnectorError(connector.label, DESCRIBE_ENTITY, f"a field of its entity definition has no fieldName "
                             f"or dataType: {json.dumps(bad[0], default=str)[:100]}")
    return [entity_field(f) for f in fields]


def field_types(definition: Optional[Mapping[str, Any]]) -> Dict[str, str]:
    """Field name -> the connector's data type (the SDK's FieldDataType name)."""
    out: Dict[str, str] = {}
    for f in (definition or {}).get("fields") or ():
        if isinstance(f, dict) and isinstance(f.get("fieldName"), str):
            out[f["fieldName"]] = str(f.get("dataType") or "String")
    return out


def timestamp_field(definition: Optional[Mapping[str, Any]]) -> Optional[str]:
    """[guess] The field incremental pulls use when the flow names none: the first the connector
    flags ``isTimestampFieldForIncrementalQueries``."""
    for f in (definition or {}).get("fields") or ():
        read = f.get("readProperties") if isinstance(f, dict) else None
        if isinstance(read, dict) and read.get("isTimestampFieldForIncrementalQueries"):
            return str(f.get("fieldName"))
    return None
