"""An AppFlow custom connector over an in-memory store, written with AWS's ``custom-connector-sdk``.

It is written as a connector author writes one for AWS Lambda: the SDK's three handlers
(metadata, record, configuration) behind :class:`BaseLambdaConnectorHandler`, credentials read from
Secrets Manager with boto3 on every call, filter expressions parsed with the SDK's
``custom_connector_queryfilter`` parser and evaluated by a visitor of its parse tree. It imports only
the standard library, boto3 and the SDK, so that the file can be zipped and run as a Lambda function.

Entry points: ``lambda_handler(event, context)`` (module level, over ``CONNECTOR``, which serves the
seeded module-level ``STORE``), and ``MemoryConnector(store).lambda_handler`` for a store of your own.

Behaviour choices (the SDK leaves them to the connector):

* ``between`` excludes both bounds (``lo < v < hi``), as AWS's example visitor translates it.
* ``= null`` matches a missing key or a JSON null; ``!= null`` the opposite. ``=`` / ``!=`` are
  null-aware (a null value is never equal to a non-null literal, so ``X != "a"`` matches a null X);
  ``<``, ``<=``, ``>``, ``>=``, ``between`` and ``contains`` never match a null value.
* ``contains`` is a case-sensitive substring test on the value's text (JSON text for non-strings).
* ``LIMIT n`` caps the matching records before pagination. AWS's grammar only accepts a count of two
  digits or more (``POS_INTEGER`` is ``[1-9][0-9]+``), so ``limit 5`` is a syntax error.
* Literals take the data type of their field (from the request's entity definition when it has one,
  else the connector's own): numbers compare as ``Decimal``, Date/DateTime as UTC instants (a date is
  its midnight UTC; a time without zone is UTC), Booleans as booleans, strings after unquoting and
  undoing ``\\\\ \\" \\' \\n \\r \\t``.
"""
import base64
import binascii
import copy
import json
import operator
import re
import threading
from datetime import datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

import boto3
import custom_connector_sdk.lambda_handler.requests as sdk_requests
import custom_connector_sdk.lambda_handler.responses as responses
from custom_connector_queryfilter.queryfilter.antlr.CustomConnectorQueryFilterParser import (
    CustomConnectorQueryFilterParser as Parser,
)
from custom_connector_queryfilter.queryfilter.antlr.CustomConnectorQueryFilterParserVisitor import (
    CustomConnectorQueryFilterParserVisitor,
)
from custom_connector_queryfilter.queryfilter.errors import InvalidFilterExpressionError
from custom_connector_queryfilter.queryfilter.parse_tree_builder import parse
from custom_connector_sdk.connector.auth import AuthenticationConfig, OAuth2Defaults, OAuth2GrantType
from custom_connector_sdk.connector.configuration import ConnectorModes, ConnectorOperator
from custom_connector_sdk.connector.context import Entity, EntityDefinition
from custom_connector_sdk.connector.fields import (
    FieldConstraints,
    FieldDataType,
    FieldDefinition,
    RangeConstraint,
    ReadOperationProperty,
    WriteOperationProperty,
    WriteOperationType,
)
from custom_connector_sdk.connector.settings import (
    ConnectorRuntimeSetting,
    ConnectorRuntimeSettingDataType,
    ConnectorRuntimeSettingScope,
)
from custom_connector_sdk.lambda_handler.handlers import ConfigurationHandler, MetadataHandler, RecordHandler
from custom_connector_sdk.lambda_handler.lambda_handler import BaseLambdaConnectorHandler
from custom_connector_sdk.lambda_handler.responses import ErrorCode, ErrorDetails, WriteRecordResult

# --- Connector configuration -------------------------------------------------------------------

CONNECTOR_OWNER = "appflow-emu-tests"
CONNECTOR_NAME = "MemoryConnector"
CONNECTOR_VERSION = "1.0"
API_VERSION = "v1.0"
SUPPORTED_API_VERSIONS = [API_VERSION]
AUTH_URL = "https://auth.memory-connector.example/oauth2/authorize"
TOKEN_URL = "https://auth.memory-connector.example/oauth2/token"
OAUTH_SCOPES = ["read", "write"]

INSTANCE_URL = "instanceUrl"
REGION = "region"
PAGE_SIZE = "pageSize"
DRY_RUN = "dryRun"
REGIONS = ["us-east-1", "us-west-2", "eu-west-1"]

DEFAULT_PAGE_SIZE = sdk_requests.DEFAULT_MAX_RESULT
REJECTED_TOKEN = "invalid"
ALL_OR_NONE_MESSAGE = "Not written: allOrNone is set and another record of the batch failed"

# --- Entities ----------------------------------------------------------------------------------

ACCOUNT = "Account"
CONTACT = "Contact"
ENTITY_NAMES = (ACCOUNT, CONTACT)
ID_FIELD = "Id"
ID_PREFIXES = {ACCOUNT: "A", CONTACT: "C"}
INDUSTRIES = ["Technology", "Finance", "Healthcare", "Retail", "Manufacturing", "Energy", "Education", "Other"]
EMAIL_PATTERN = r"[^@\s]+@[^@\s]+\.[^@\s]+"

_INTEGER_TYPES = (FieldDataType.Integer, FieldDataType.Long, FieldDataType.Short, FieldDataType.BigInteger)
_DECIMAL_TYPES = (FieldDataType.Float, FieldDataType.Double, FieldDataType.BigDecimal)
_NUMERIC_TYPES = _INTEGER_TYPES + _DECIMAL_TYPES
_TEMPORAL_TYPES = (FieldDataType.Date, FieldDataType.DateTime)
_NUMERIC_OPERATORS = [ConnectorOperator.NOT_EQUAL_TO, ConnectorOperator.EQUAL_TO, ConnectorOperator.LESS_THAN,
                      ConnectorOperator.LESS_THAN_OR_EQUAL_TO, ConnectorOperator.GREATER_THAN,
                      ConnectorOperator.GREATER_THAN_OR_EQUAL_TO, ConnectorOperator.BETWEEN]


def _field(name: str, data_type: FieldDataType, label: str, description: str, *, primary_key: bool = False,
           nullable: bool = True, creatable: bool = True, updatable: bool = True,
           id_operations: Optional[List[WriteOperationType]] = None, constraints: Optional[FieldConstraints] = None,
           incremental: bool = False) -> FieldDefinition:
    return FieldDefinition(
        field_name=name,
        data_type=data_type,
        label=label,
        description=description,
        is_primary_key=primary_key,
        constraints=constraints,
        read_properties=ReadOperationProperty(is_retrievable=True, is_nullable=nullable, is_queryable=True,
                                              is_timestamp_field_for_incremental_queries=incremental),
        write_properties=WriteOperationProperty(is_creatable=creatable, is_updatable=updatable, is_nullable=nullable,
                                                is_upsertable=creatable and updatable,
                                                is_defaulted_on_create=primary_key,
                                                supported_write_operations=id_operations),
        filter_operators=list(_NUMERIC_OPERATORS) if data_type in _NUMERIC_TYPES else None,
    )


def _id_field(entity: str) -> FieldDefinition:
    # The store assigns Ids (A006, C005, ...): not creatable, but usable as the key of UPDATE/UPSERT/DELETE.
    return _field(ID_FIELD, FieldDataType.String, f"{entity} ID", f"Unique identifier of the {entity}",
                  primary_key=True, nullable=False, creatable=False, updatable=False,
                  id_operations=[WriteOperationType.UPDATE, WriteOperationType.UPSERT, WriteOperationType.DELETE])


def _last_modified(entity: str) -> FieldDefinition:
    return _field("LastModified", FieldDataType.DateTime, "Last Modified", f"When the {entity} last changed (UTC)",
                  constraints=FieldConstraints(allowed_date_format="yyyy-MM-dd'T'HH:mm:ss'Z'"), incremental=True)


def _account_fields() -> List[FieldDefinition]:
    # RangeConstraint bounds are ints, not Decimals: the SDK's to_dict copies them as they are into JSON.
    return [
        _id_field(ACCOUNT),
        _field("Name", FieldDataType.String, "Account Name", "Name of the account", nullable=False,
               constraints=FieldConstraints(allowed_length_range=RangeConstraint(1, 255))),
        _field("Industry", FieldDataType.String, "Industry", "Industry of the account",
               constraints=FieldConstraints(allowed_values=list(INDUSTRIES))),
        _field("Employees", FieldDataType.Integer, "Employees", "Number of employees",
               constraints=FieldConstraints(allowed_value_range=RangeConstraint(0, 10_000_000))),
        _field("AnnualRevenue", FieldDataType.Double, "Annual Revenue", "Annual revenue in USD"),
        _field("IsActive", FieldDataType.Boolean, "Active", "Whether the account is active"),
        _field("CreatedDate", FieldDataType.Date, "Created Date", "Day the account was created",
               constraints=FieldConstraints(allowed_date_format="yyyy-MM-dd")),
        _last_modified(ACCOUNT),
    ]


def _contact_fields() -> List[FieldDefinition]:
    return [
        _id_field(CONTACT),
        _field("AccountId", FieldDataType.String, "Account ID", "Id of the contact's account"),
        _field("Email", FieldDataType.String, "Email", "Email address of the contact (an external id)",
               id_operations=[WriteOperationType.UPSERT],
               constraints=FieldConstraints(allowed_values_regex_pattern=EMAIL_PATTERN)),
        _field("FirstName", FieldDataType.String, "First Name", "Given name"),
        _field("LastName", FieldDataType.String, "Last Name", "Family name", nullable=False,
               constraints=FieldConstraints(allowed_length_range=RangeConstraint(1, 80))),
        _last_modified(CONTACT),
    ]


_ENTITY_SPECS: Dict[str, Tuple[str, Callable[[], List[FieldDefinition]]]] = {
    ACCOUNT: ("Companies that are customers or prospects", _account_fields),
    CONTACT: ("People who work for an account", _contact_fields),
}


def entity(name: str) -> Optional[Entity]:
    """The SDK ``Entity`` of ``name``, or None when the connector has no such entity."""
    spec = _ENTITY_SPECS.get(name)
    if spec is None:
        return None
    return Entity(entity_identifier=name, has_nested_entities=False, is_writable=True, label=name,
                  description=spec[0])


def entity_definition(name: str) -> Optional[EntityDefinition]:
    """A fresh SDK ``EntityDefinition`` of ``name`` (the DescribeEntity answer), or None."""
    spec = _ENTITY_SPECS.get(name)
    if spec is None:
        return None
    return EntityDefinition(entity=entity(name), fields=spec[1]())


# --- Seed data ---------------------------------------------------------------------------------

_SEED: Dict[str, List[Dict[str, Any]]] = {
    ACCOUNT: [
        {"Id": "A001", "Name": "Acme Corporation", "Industry": "Technology", "Employees": 250,
         "AnnualRevenue": 12500000.0, "IsActive": True, "CreatedDate": "2023-01-15",
         "LastModified": "2024-01-10T09:30:00Z"},
        {"Id": "A002", "Name": "Globex Inc", "Industry": "Manufacturing", "Employees": 1200,
         "AnnualRevenue": 98000000.5, "IsActive": True, "CreatedDate": "2022-06-01",
         "LastModified": "2024-01-20T14:00:00Z"},
        {"Id": "A003", "Name": "Initech", "Industry": None, "Employees": 45,
         "AnnualRevenue": 3200000.0, "IsActive": False, "CreatedDate": "2021-11-30",
         "LastModified": "2023-12-31T23:59:59Z"},
        {"Id": "A004", "Name": "Umbrella Health", "Industry": "Healthcare", "Employees": 5400,
         "AnnualRevenue": 410000000.0, "IsActive": True, "CreatedDate": "2020-03-03",
         "LastModified": "2024-02-05T08:15:00Z"},
        {"Id": "A005", "Name": "O'Brien & \"Sons\" Retail", "Industry": "Retail", "Employees": 12,
         "AnnualRevenue": 850000.75, "IsActive": False, "CreatedDate": "2024-01-31",
         "LastModified": "2024-02-01T00:00:00Z"},
    ],
    CONTACT: [
        {"Id": "C001", "AccountId": "A001", "Email": "ada@acme.example", "FirstName": "Ada",
         "LastName": "Lovelace", "LastModified": "2024-01-11T10:00:00Z"},
        {"Id": "C002", "AccountId": "A001", "Email": "grace@acme.example", "FirstName": "Grace",
         "LastName": "Hopper", "LastModified": "2024-01-12T11:30:00Z"},
        {"Id": "C003", "AccountId": "A002", "Email": "alan@globex.example", "FirstName": "Alan",
         "LastName": "Turing", "LastModified": "2024-01-21T08:00:00Z"},
        {"Id": "C004", "AccountId": "A004", "Email": "edsger@umbrella.example", "FirstName": "Edsger",
         "LastName": "Dijkstra", "LastModified": "2024-02-06T12:00:00Z"},
    ],
}


def seed_records() -> Dict[str, List[Dict[str, Any]]]:
    """A fresh deep copy of the seed data: 5 Accounts (A001-A005) and 4 Contacts (C001-C004)."""
    return copy.deepcopy(_SEED)


# --- The store ---------------------------------------------------------------------------------


class Store:
    """Records by entity name (entity -> list of dicts), guarded by a lock.

    Readers get deep copies; a writer holds ``lock`` (re-entrant) across its read-modify-``replace``.
    """

    def __init__(self, records: Optional[Mapping[str, Iterable[Mapping[str, Any]]]] = None) -> None:
        self.lock = threading.RLock()
        self._data: Dict[str, List[Dict[str, Any]]] = {}
        for name, rows in (records or {}).items():
            self._data[name] = [copy.deepcopy(dict(row)) for row in rows]

    def records(self, entity_name: str) -> List[Dict[str, Any]]:
        """A deep copy of the entity's records (empty if it has none)."""
        with self.lock:
            return copy.deepcopy(self._data.get(entity_name, []))

    def replace(self, entity_name: str, rows: Iterable[Mapping[str, Any]]) -> None:
        with self.lock:
            self._data[entity_name] = [copy.deepcopy(dict(row)) for row in rows]

    def snapshot(self) -> Dict[str, List[Dict[str, Any]]]:
        with self.lock:
            return copy.deepcopy(self._data)

    def clear(self) -> None:
        with self.lock:
            self._data.clear()


# --- Values ------------------------------------------------------------------------------------

_ISO_RE = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})"
    r"(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?)?")
_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_instant(text: str) -> Optional[datetime]:
    """An ISO 8601 date or date-time as an aware UTC datetime (a date is its midnight UTC, a time
    without zone is UTC; hour 24 is the next midnight), or None when ``text`` is not one."""
    match = _ISO_RE.fullmatch(text.strip()) if isinstance(text, str) else None
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    try:
        hours = int(hour or 0)
        extra = timedelta(0)
        if hours == 24:
            if int(minute or 0) or int(second or 0) or int(fraction or 0):
                return None
            hours, extra = 0, timedelta(days=1)
        micros = int((fraction or "0")[:6].ljust(6, "0"))
        tz = timezone.utc
        if zone and zone not in ("Z", "z"):
            digits = zone[1:].replace(":", "")
            offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:] or 0))
            tz = timezone(-offset if zone[0] == "-" else offset)
        moment = datetime(int(year), int(month), int(day), hours, int(minute or 0), int(second or 0), micros, tz)
    except ValueError:
        return None
    return (moment + extra).astimezone(timezone.utc)


def _text(value: Any) -> str:
    """A value's text: itself for a string, its JSON otherwise (true, 12, 3.5, [..])."""
    return value if isinstance(value, str) else json.dumps(value)


def _decimal(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise ValueError(value)
    try:
        number = Decimal(str(value).strip()) if isinstance(value, (int, float, str, Decimal)) else None
    except InvalidOperation:
        raise ValueError(value)
    if number is None or not number.is_finite():
        raise ValueError(value)
    return number


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise ValueError(value)


# --- Filter expressions ------------------------------------------------------------------------

_ESCAPES = {'"': '"', "'": "'", "\\": "\\", "n": "\n", "r": "\r", "t": "\t"}
_ESCAPE_RE = re.compile(r"\\([\"'\\nrt])")
_INCOMPARABLE = object()  # a record value its field's type cannot read (e.g. "abc" in an Integer field)


class FilterError(ValueError):
    """A filter expression this connector cannot evaluate (answered as InvalidArgument)."""


def unquote(text: str) -> str:
    """A string literal's value: the quotes removed and ``\\\\ \\" \\' \\n \\r \\t`` undone."""
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        text = text[1:-1]
    return _ESCAPE_RE.sub(lambda m: _ESCAPES[m.group(1)], text)


class Literal:
    """A value of a filter expression: kind is string, number, date, datetime, boolean or null."""

    __slots__ = ("kind", "value", "text")

    def __init__(self, kind: str, value: Any, text: str) -> None:
        self.kind, self.value, self.text = kind, value, text

    def __repr__(self) -> str:
        return f"Literal({self.kind}, {self.text!r})"


class RecordFilter:
    """A compiled filter expression: ``matches(record)`` and the expression's LIMIT (or None)."""

    def __init__(self, predicate: Callable[[Mapping[str, Any]], bool], limit: Optional[int] = None) -> None:
        self.predicate = predicate
        self.limit = limit

    def matches(self, record: Mapping[str, Any]) -> bool:
        return bool(self.predicate(record))

    def apply(self, records: Sequence[Mapping[str, Any]]) -> List[Mapping[str, Any]]:
        selected = [record for record in records if self.matches(record)]
        return selected if self.limit is None else selected[:self.limit]


def _record_value(record: Mapping[str, Any], field: str, data_type: FieldDataType) -> Any:
    value = record.get(field)
    if value is None:
        return None
    try:
        if data_type in _NUMERIC_TYPES:
            return _decimal(value)
        if data_type == FieldDataType.Boolean:
            return _boolean(value)
        if data_type in _TEMPORAL_TYPES:
            instant = parse_instant(value) if isinstance(value, str) else None
            return _INCOMPARABLE if instant is None else instant
        return _text(value)
    except ValueError:
        return _INCOMPARABLE


def _equal(value: Any, target: Any) -> bool:
    if value is None or target is None:
        return value is None and target is None
    if value is _INCOMPARABLE:
        return False
    return bool(value == target)


def _not_equal(value: Any, target: Any) -> bool:
    return not _equal(value, target)


def _ordered(compare: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
    def test(value: Any, target: Any) -> bool:
        if value is None or target is None or value is _INCOMPARABLE:
            return False
        try:
            return bool(compare(value, target))
        except TypeError:
            return False
    return test


_TESTS: Dict[str, Callable[[Any, Any], bool]] = {
    "=": _equal, "!=": _not_equal, ">": _ordered(operator.gt), ">=": _ordered(operator.ge),
    "<": _ordered(operator.lt), "<=": _ordered(operator.le),
}


class MemoryFilterVisitor(CustomConnectorQueryFilterParserVisitor):
    """Compiles the SDK parser's tree of a filter expression into a :class:`RecordFilter`.

    Expression nodes become predicates over a record (a dict); value nodes become :class:`Literal`s,
    which take the data type of the field they are compared with (``field_types``).
    """

    def __init__(self, field_types: Mapping[str, FieldDataType], entity_name: str = "the entity") -> None:
        self.field_types = dict(field_types)
        self.entity_name = entity_name

    # roots
    def visitQueryfilter(self, ctx: Parser.QueryfilterContext) -> RecordFilter:
        if ctx.limitexpression() is not None:
            return self.visit(ctx.limitexpression())
        return RecordFilter(self.visit(ctx.expression()))

    def visitLimitExpression(self, ctx: Parser.LimitExpressionContext) -> RecordFilter:
        limit = int(ctx.count().getText())
        if ctx.expression() is None:
            return RecordFilter(lambda record: True, limit)
        return RecordFilter(self.visit(ctx.expression()), limit)

    # logic
    def visitParenExpression(self, ctx: Parser.ParenExpressionContext) -> Callable:
        return self.visit(ctx.expression())

    def visitNotExpression(self, ctx: Parser.NotExpressionContext) -> Callable:
        inner = self.visit(ctx.expression())
        return lambda record: not inner(record)

    def visitANDBinaryExpression(self, ctx: Parser.ANDBinaryExpressionContext) -> Callable:
        left, right = self.visit(ctx.expression(0)), self.visit(ctx.expression(1))
        return lambda record: left(record) and right(record)

    def visitORBinaryExpression(self, ctx: Parser.ORBinaryExpressionContext) -> Callable:
        left, right = self.visit(ctx.expression(0)), self.visit(ctx.expression(1))
        return lambda record: left(record) or right(record)

    # comparisons
    def visitGreaterThanComparatorExpression(self, ctx: Parser.GreaterThanComparatorExpressionContext) -> Callable:
        return self._comparison(ctx, ">")

    def visitGreaterThanEqualToComparatorExpression(
            self, ctx: Parser.GreaterThanEqualToComparatorExpressionContext) -> Callable:
        return self._comparison(ctx, ">=")

    def visitLesserThanComparatorExpression(self, ctx: Parser.LesserThanComparatorExpressionContext) -> Callable:
        return self._comparison(ctx, "<")

    def visitLesserThanEqualToComparatorExpression(
            self, ctx: Parser.LesserThanEqualToComparatorExpressionContext) -> Callable:
        return self._comparison(ctx, "<=")

    def visitEqualToComparatorExpression(self, ctx: Parser.EqualToComparatorExpressionContext) -> Callable:
        return self._comparison(ctx, "=")

    def visitNotEqualToComparatorExpression(self, ctx: Parser.NotEqualToComparatorExpressionContext) -> Callable:
        return self._comparison(ctx, "!=")

    def visitBooleanEqualToComparatorExpression(
            self, ctx: Parser.BooleanEqualToComparatorExpressionContext) -> Callable:
        return self._comparison(ctx, "=", self.visit(ctx.boolean()))

    def visitBooleanNotEqualToComparatorExpression(
            self, ctx: Parser.BooleanNotEqualToComparatorExpressionContext) -> Callable:
        return self._comparison(ctx, "!=", self.visit(ctx.boolean()))

    def visitLikeComparatorExpression(self, ctx: Parser.LikeComparatorExpressionContext) -> Callable:
        field, _ = self._field(ctx.identifier())
        literal = self.visit(ctx.value())
        if literal.kind == "null":
            return lambda record: False
        needle = literal.text

        def contains(record: Mapping[str, Any]) -> bool:
            value = record.get(field)
            return value is not None and needle in _text(value)
        return contains

    def visitBetweenExpression(self, ctx: Parser.BetweenExpressionContext) -> Callable:
        field, data_type = self._field(ctx.identifier())
        low = self._typed(self.visit(ctx.value(0)), field, data_type)
        high = self._typed(self.visit(ctx.value(1)), field, data_type)
        above, below = _TESTS[">"], _TESTS["<"]

        def between(record: Mapping[str, Any]) -> bool:
            value = _record_value(record, field, data_type)
            return above(value, low) and below(value, high)
        return between

    def visitInExpression(self, ctx: Parser.InExpressionContext) -> Callable:
        field, data_type = self._field(ctx.identifier())
        targets = [self._typed(self.visit(value), field, data_type) for value in ctx.value()]

        def within(record: Mapping[str, Any]) -> bool:
            value = _record_value(record, field, data_type)
            return any(_equal(value, target) for target in targets)
        return within

    def visitIdentifierExpression(self, ctx: Parser.IdentifierExpressionContext) -> Callable:
        field, data_type = self._field(ctx.identifier())
        if data_type != FieldDataType.Boolean:
            raise FilterError(f"Field {field} alone is not a condition (only a Boolean field is)")
        return lambda record: _record_value(record, field, data_type) is True

    def visitValueExpression(self, ctx: Parser.ValueExpressionContext) -> Callable:
        raise FilterError(f"A value alone is not a condition: {ctx.getText()}")

    # values
    def visitStringValueExpression(self, ctx: Parser.StringValueExpressionContext) -> Literal:
        if ctx.string().NULL() is not None:
            return Literal("null", None, "null")
        text = unquote(ctx.getText())
        return Literal("string", text, text)

    def visitDecimalValueExpression(self, ctx: Parser.DecimalValueExpressionContext) -> Literal:
        return Literal("number", Decimal(ctx.getText()), ctx.getText())

    def visitIsoDate(self, ctx: Parser.IsoDateContext) -> Literal:
        return Literal("date", self._instant(ctx.getText()), ctx.getText())

    def visitIsoDateTime(self, ctx: Parser.IsoDateTimeContext) -> Literal:
        return Literal("datetime", self._instant(ctx.getText()), ctx.getText())

    def visitBoolean(self, ctx: Parser.BooleanContext) -> Literal:
        value = ctx.TRUE() is not None
        return Literal("boolean", value, "true" if value else "false")

    # helpers
    def _comparison(self, ctx: Any, op: str, literal: Optional[Literal] = None) -> Callable:
        field, data_type = self._field(ctx.identifier())
        target = self._typed(literal if literal is not None else self.visit(ctx.value()), field, data_type)
        test = _TESTS[op]
        return lambda record: test(_record_value(record, field, data_type), target)

    def _field(self, ctx: Parser.IdentifierContext) -> Tuple[str, FieldDataType]:
        name = ctx.getText()
        if name not in self.field_types:
            raise FilterError(f"Filter attribute {name} does not exist in entity {self.entity_name}")
        return name, self.field_types[name]

    @staticmethod
    def _instant(text: str) -> datetime:
        instant = parse_instant(text)
        if instant is None:
            raise FilterError(f"{text} is not a valid date or date-time")
        return instant

    @staticmethod
    def _typed(literal: Literal, field: str, data_type: FieldDataType) -> Any:
        """The literal as a value of the field's data type (FilterError when it cannot be one)."""
        if literal.kind == "null":
            return None
        try:
            if data_type in _NUMERIC_TYPES:
                if literal.kind in ("number", "string"):
                    return _decimal(literal.text)
            elif data_type == FieldDataType.Boolean:
                if literal.kind in ("boolean", "string"):
                    return _boolean(literal.value)
            elif data_type in _TEMPORAL_TYPES:
                if literal.kind in ("date", "datetime"):
                    return literal.value
                if literal.kind == "string" and parse_instant(literal.text) is not None:
                    return parse_instant(literal.text)
            else:
                return literal.text
        except ValueError:
            pass
        raise FilterError(f"Value {literal.text} is not valid for {data_type.name} field {field}")


def _parser_message(error: InvalidFilterExpressionError) -> str:
    """The parser's message without its unstable ``rule stack: <list_reverseiterator object at 0x..>``."""
    head, *rest = [str(arg) for arg in error.args] or ["Invalid filter expression"]
    details = [part for text in rest for part in re.split(r"rule stack: <[^>]*> ", text) if part]
    return " ".join([head] + ["; ".join(details)] if details else [head])


def compile_filter(expression: Optional[str], field_types: Mapping[str, FieldDataType],
                   entity_name: str = "the entity") -> RecordFilter:
    """Parse ``expression`` with the SDK's parser and compile it (an empty one matches everything)."""
    if expression is None or not expression.strip():
        return RecordFilter(lambda record: True)
    try:
        tree = parse(expression)
    except InvalidFilterExpressionError as error:
        raise FilterError(_parser_message(error))
    return MemoryFilterVisitor(field_types, entity_name).visit(tree)


# --- Credentials -------------------------------------------------------------------------------

_TOKEN_KEYS = {"OAUTH2": "accessToken", "APIKEY": "apiKey"}
_CLIENT_LOCK = threading.Lock()  # boto3's default session is not safe to create clients from concurrently


def _auth_kind(name: Any) -> str:
    return re.sub(r"[^A-Z0-9]", "", str(name or "").upper())


def _invalid_credentials(message: str) -> ErrorDetails:
    return ErrorDetails(ErrorCode.InvalidCredentials, message)


def check_credentials(credentials: Any) -> Optional[ErrorDetails]:
    """Read the credentials' secret from Secrets Manager (every call: nothing is cached) and check its
    token: OAuth2 ``accessToken`` or ``apiKey``, neither empty nor ``"invalid"``. None when accepted."""
    arn = getattr(credentials, "secret_arn", None)
    if not arn:
        return _invalid_credentials("No credentials: connectorContext.credentials.secretArn is missing")
    auth_type = getattr(credentials, "authentication_type", None)
    kind = _auth_kind(getattr(auth_type, "name", auth_type))
    if kind and kind not in _TOKEN_KEYS:
        return _invalid_credentials(f"Authentication type {auth_type.name} is not supported by {CONNECTOR_NAME}")
    with _CLIENT_LOCK:
        client = boto3.client("secretsmanager")
    try:
        answer = client.get_secret_value(SecretId=arn)
    except client.exceptions.ResourceNotFoundException:
        return ErrorDetails(ErrorCode.ResourceNotFoundError, f"Secret {arn} does not exist")
    except client.exceptions.ClientError as error:
        code = error.response.get("Error", {}).get("Code", "ClientError")
        return _invalid_credentials(f"Could not read secret {arn}: {code}")
    text = answer.get("SecretString")
    if text is None and answer.get("SecretBinary") is not None:
        text = bytes(answer["SecretBinary"]).decode("utf-8", "replace")
    try:
        payload = json.loads(text or "")
    except ValueError:
        payload = None
    if not isinstance(payload, dict):
        return _invalid_credentials(f"Secret {arn} does not hold a JSON object")
    secret_kind = _auth_kind(payload.get("authenticationType"))
    if kind and secret_kind and secret_kind != kind:
        return _invalid_credentials(f"Secret {arn} holds {payload.get('authenticationType')} credentials, "
                                    f"not {auth_type.name}")
    key = _TOKEN_KEYS.get(kind or secret_kind)
    if key is None:
        return _invalid_credentials(f"Secret {arn} does not say which authentication type it holds")
    token = payload.get(key)
    if not isinstance(token, str) or not token.strip():
        return _invalid_credentials(f"Invalid credentials: the secret has no {key}")
    if token == REJECTED_TOKEN:
        return _invalid_credentials(f"Invalid credentials: the {key} was rejected")
    return None


# --- Request helpers ---------------------------------------------------------------------------


class RequestError(ValueError):
    """A request this connector refuses as a whole (answered as InvalidArgument)."""


def _invalid_argument(message: str) -> ErrorDetails:
    return ErrorDetails(ErrorCode.InvalidArgument, message)


def _no_entity(name: Any) -> ErrorDetails:
    return _invalid_argument(f"Entity {name} does not exist")


def _credentials_of(request: Any) -> Any:
    context = getattr(request, "connector_context", None)
    return getattr(context, "credentials", None)


def _settings_of(request: Any) -> Dict[str, Any]:
    context = getattr(request, "connector_context", None)
    return dict(getattr(context, "connector_runtime_settings", None) or {})


def _positive_int(value: Any, name: str, default: Optional[int] = None) -> Optional[int]:
    if value is None or value == "":
        return default
    number = int(value) if isinstance(value, str) and re.fullmatch(r"\s*\d+\s*", value) else value
    if isinstance(number, bool) or not isinstance(number, int) or number < 1:
        raise RequestError(f"{name} must be a positive integer, got {value!r}")
    return number


def _setting_bool(value: Any, name: str) -> bool:
    if value is None or value == "":
        return False
    try:
        return _boolean(value)
    except ValueError:
        raise RequestError(f"{name} must be true or false, got {value!r}")


def encode_token(offset: int) -> str:
    """An opaque pagination token for ``offset``."""
    return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode()


def decode_token(token: Optional[str], total: int) -> int:
    if token is None or token == "":
        return 0
    try:
        offset = json.loads(base64.urlsafe_b64decode(token.encode()).decode()).get("offset")
    except (ValueError, AttributeError, TypeError, binascii.Error):
        offset = None
    if not isinstance(offset, int) or isinstance(offset, bool) or not 0 <= offset <= total:
        raise RequestError(f"Invalid nextToken: {token}")
    return offset


def _field_types(request: Any, own: EntityDefinition) -> Dict[str, FieldDataType]:
    """The field types of the request's entity definition when it has one, else the connector's own."""
    context = getattr(request, "connector_context", None)
    given = getattr(context, "entity_definition", None)
    fields = getattr(given, "fields", None) or own.fields
    return {field.field_name: field.data_type for field in fields}


def _projection(selected: Optional[Sequence[str]], field_types: Mapping[str, Any], entity_name: str) -> \
        Optional[List[str]]:
    if not selected:
        return None
    unknown = [name for name in selected if name not in field_types]
    if unknown:
        raise RequestError(f"Field {unknown[0]} does not exist in entity {entity_name}")
    return list(selected)


def _project(record: Mapping[str, Any], fields: Optional[Sequence[str]]) -> Dict[str, Any]:
    if fields is None:
        return dict(record)
    return {name: record[name] for name in fields if name in record}


# --- Handlers ----------------------------------------------------------------------------------


class MemoryMetadataHandler(MetadataHandler):
    """ListEntities and DescribeEntity over the connector's fixed schema (Account, Contact)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def list_entities(self, request: sdk_requests.ListEntitiesRequest) -> responses.ListEntitiesResponse:
        error = check_credentials(_credentials_of(request))
        if error is not None:
            return responses.ListEntitiesResponse(is_success=False, error_details=error)
        path = (request.entities_path or "").strip("/")
        if path and path not in ENTITY_NAMES:
            return responses.ListEntitiesResponse(
                is_success=False, error_details=_invalid_argument(f"Entity path {request.entities_path} does not exist"))
        names = [] if path else list(ENTITY_NAMES)  # an entity has no nested entities
        try:
            size = _positive_int(request.max_result, "maxResult", DEFAULT_PAGE_SIZE)
            offset = decode_token(request.next_token, len(names))
        except RequestError as problem:
            return responses.ListEntitiesResponse(is_success=False, error_details=_invalid_argument(str(problem)))
        page = names[offset:offset + size]
        next_token = encode_token(offset + size) if offset + size < len(names) else None
        return responses.ListEntitiesResponse(is_success=True, entities=[entity(name) for name in page],
                                              next_token=next_token)

    def describe_entity(self, request: sdk_requests.DescribeEntityRequest) -> responses.DescribeEntityResponse:
        error = check_credentials(_credentials_of(request))
        if error is not None:
            return responses.DescribeEntityResponse(is_success=False, error_details=error)
        definition = entity_definition(request.entity_identifier)
        if definition is None:
            return responses.DescribeEntityResponse(is_success=False,
                                                    error_details=_no_entity(request.entity_identifier))
        return responses.DescribeEntityResponse(is_success=True, entity_definition=definition)


class MemoryConfigurationHandler(ConfigurationHandler):
    """The connector's configuration, its runtime settings' validation and credentials' validation."""

    def __init__(self, store: Optional[Store] = None) -> None:
        self.store = store

    def describe_connector_configuration(self, request: sdk_requests.DescribeConnectorConfigurationRequest) -> \
            responses.DescribeConnectorConfigurationResponse:
        settings = [
            ConnectorRuntimeSetting(key=INSTANCE_URL, data_type=ConnectorRuntimeSettingDataType.String, required=True,
                                    label="Instance URL", description="HTTPS URL of the memory instance",
                                    scope=ConnectorRuntimeSettingScope.CONNECTOR_PROFILE),
            ConnectorRuntimeSetting(key=REGION, data_type=ConnectorRuntimeSettingDataType.String, required=False,
                                    label="Region", description="Region of the memory instance",
                                    scope=ConnectorRuntimeSettingScope.CONNECTOR_PROFILE,
                                    connector_supplied_value_options=list(REGIONS)),
            ConnectorRuntimeSetting(key=PAGE_SIZE, data_type=ConnectorRuntimeSettingDataType.Integer, required=False,
                                    label="Page size", description="Most records a QueryData answer holds",
                                    scope=ConnectorRuntimeSettingScope.SOURCE),
            ConnectorRuntimeSetting(key=DRY_RUN, data_type=ConnectorRuntimeSettingDataType.Boolean, required=False,
                                    label="Dry run", description="Validate written records without storing them",
                                    scope=ConnectorRuntimeSettingScope.DESTINATION),
        ]
        # No o_auth_2_custom_parameters: the SDK's to_dict would put an Enum (not JSON) in the answer.
        o_auth_2_defaults = OAuth2Defaults(
            token_url=[TOKEN_URL], auth_url=[AUTH_URL],
            o_auth_2_grant_types_supported=[OAuth2GrantType.CLIENT_CREDENTIALS, OAuth2GrantType.AUTHORIZATION_CODE],
            o_auth_scopes=list(OAUTH_SCOPES))
        authentication = AuthenticationConfig(is_oauth_2_supported=True, is_api_key_auth_supported=True,
                                              o_auth_2_defaults=o_auth_2_defaults)
        return responses.DescribeConnectorConfigurationResponse(
            is_success=True,
            connector_owner=CONNECTOR_OWNER,
            connector_name=CONNECTOR_NAME,
            connector_version=CONNECTOR_VERSION,
            connector_modes=[ConnectorModes.SOURCE, ConnectorModes.DESTINATION],
            supported_api_versions=list(SUPPORTED_API_VERSIONS),
            authentication_config=authentication,
            connector_runtime_setting=settings,
            supported_write_operations=list(WriteOperationType),
        )

    def validate_connector_runtime_settings(self, request: sdk_requests.ValidateConnectorRuntimeSettingsRequest) -> \
            responses.ValidateConnectorRuntimeSettingsResponse:
        settings = request.connector_runtime_settings or {}
        scope = request.scope
        errors: Dict[str, str] = {}
        if scope == ConnectorRuntimeSettingScope.CONNECTOR_PROFILE:
            url = settings.get(INSTANCE_URL)
            if url is None or url == "":
                errors[INSTANCE_URL] = f"{INSTANCE_URL} is required"
            elif not isinstance(url, str) or not url.startswith("https://"):
                errors[INSTANCE_URL] = f"{INSTANCE_URL} must start with https://"
            region = settings.get(REGION)
            if region not in (None, "") and region not in REGIONS:
                errors[REGION] = f"{REGION} must be one of {', '.join(REGIONS)}"
        checks = []
        if scope in (ConnectorRuntimeSettingScope.SOURCE, ConnectorRuntimeSettingScope.SOURCE_AND_DESTINATION):
            checks.append((PAGE_SIZE, _positive_int))
        if scope in (ConnectorRuntimeSettingScope.DESTINATION, ConnectorRuntimeSettingScope.SOURCE_AND_DESTINATION):
            checks.append((DRY_RUN, _setting_bool))
        for key, check in checks:
            try:
                check(settings.get(key), key)
            except RequestError as problem:
                errors[key] = str(problem)
        if errors:
            message = "Invalid connector runtime settings: " + "; ".join(f"{k}: {v}" for k, v in errors.items())
            return responses.ValidateConnectorRuntimeSettingsResponse(
                is_success=False, errors_by_input_field=errors, error_details=_invalid_argument(message))
        return responses.ValidateConnectorRuntimeSettingsResponse(is_success=True)

    def validate_credentials(self, request: sdk_requests.ValidateCredentialsRequest) -> \
            responses.ValidateCredentialsResponse:
        error = check_credentials(request.credentials)
        if error is not None:
            return responses.ValidateCredentialsResponse(is_success=False, error_details=error)
        return responses.ValidateCredentialsResponse(is_success=True)


class RecordError(ValueError):
    """One record of a write that fails (the others go on)."""


class MemoryRecordHandler(RecordHandler):
    """QueryData, RetrieveData and WriteData over the store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    # reads
    def query_data(self, request: sdk_requests.QueryDataRequest) -> responses.QueryDataResponse:
        error = check_credentials(_credentials_of(request))
        if error is not None:
            return responses.QueryDataResponse(is_success=False, error_details=error)
        name = request.entity_identifier
        own = entity_definition(name)
        if own is None:
            return responses.QueryDataResponse(is_success=False, error_details=_no_entity(name))
        try:
            field_types = _field_types(request, own)
            fields = _projection(request.selected_field_names, field_types, name)
            size = _positive_int(request.max_results, "maxResults", DEFAULT_PAGE_SIZE)
            page_size = _positive_int(_settings_of(request).get(PAGE_SIZE), PAGE_SIZE)
            if page_size is not None:
                size = min(size, page_size)
            record_filter = compile_filter(request.filter_expression, field_types, name)
            matched = record_filter.apply(self.store.records(name))
            offset = decode_token(request.next_token, len(matched))
        except (RequestError, FilterError) as problem:
            return responses.QueryDataResponse(is_success=False, error_details=_invalid_argument(str(problem)))
        page = matched[offset:offset + size]
        next_token = encode_token(offset + size) if offset + size < len(matched) else None
        return responses.QueryDataResponse(is_success=True, next_token=next_token,
                                           records=[json.dumps(_project(record, fields)) for record in page])

    def retrieve_data(self, request: sdk_requests.RetrieveDataRequest) -> responses.RetrieveDataResponse:
        error = check_credentials(_credentials_of(request))
        if error is not None:
            return responses.RetrieveDataResponse(is_success=False, error_details=error)
        name = request.entity_identifier
        own = entity_definition(name)
        if own is None:
            return responses.RetrieveDataResponse(is_success=False, error_details=_no_entity(name))
        field_types = _field_types(request, own)
        id_field = request.id_field_name or ID_FIELD
        try:
            fields = _projection(request.selected_field_names, field_types, name)
            if id_field not in field_types:
                raise RequestError(f"Field {id_field} does not exist in entity {name}")
        except RequestError as problem:
            return responses.RetrieveDataResponse(is_success=False, error_details=_invalid_argument(str(problem)))
        wanted = {_text(value) for value in request.ids or []}
        found = [record for record in self.store.records(name)
                 if record.get(id_field) is not None and _text(record[id_field]) in wanted]
        return responses.RetrieveDataResponse(is_success=True,
                                              records=[json.dumps(_project(record, fields)) for record in found])

    # writes
    def write_data(self, request: sdk_requests.WriteDataRequest) -> responses.WriteDataResponse:
        error = check_credentials(_credentials_of(request))
        if error is not None:
            return responses.WriteDataResponse(is_success=False, error_details=error)
        name = request.entity_identifier
        definition = entity_definition(name)
        if definition is None:
            return responses.WriteDataResponse(is_success=False, error_details=_no_entity(name))
        fields = {field.field_name: field for field in definition.fields}
        operation = request.operation
        id_fields = list(request.id_field_names or [])
        try:
            if operation is None:
                raise RequestError("operation is required")
            if operation != WriteOperationType.INSERT and not id_fields:
                raise RequestError(f"idFieldNames is required for {operation.name}")
            for id_field in id_fields:
                if id_field not in fields:
                    raise RequestError(f"Id field {id_field} does not exist in entity {name}")
            dry_run = _setting_bool(_settings_of(request).get(DRY_RUN), DRY_RUN)
        except RequestError as problem:
            return responses.WriteDataResponse(is_success=False, error_details=_invalid_argument(str(problem)))

        records = list(request.records or [])
        with self.store.lock:
            rows = self.store.records(name)
            outcomes = [self._write_one(operation, name, fields, id_fields, rows, record) for record in records]
            failures = sum(1 for result, _ in outcomes if not result.is_success)
            if failures and request.all_or_none:
                results = [result if not result.is_success else WriteRecordResult(False, key, ALL_OR_NONE_MESSAGE)
                           for result, key in outcomes]
            else:
                results = [result for result, _ in outcomes]
                if not dry_run:
                    self.store.replace(name, rows)
        if failures:
            message = f"{failures} of {len(records)} records failed"
            if request.all_or_none:
                message += "; allOrNone is set, so no record was written"
            if dry_run:
                message += " (dry run)"
            return responses.WriteDataResponse(is_success=False,
                                               error_details=ErrorDetails(ErrorCode.PartialWriteFailure, message),
                                               write_record_results=results)
        return responses.WriteDataResponse(is_success=True, write_record_results=results)

    def _write_one(self, operation: WriteOperationType, name: str, fields: Mapping[str, FieldDefinition],
                   id_fields: Sequence[str], rows: List[Dict[str, Any]], text: Any) -> \
            Tuple[WriteRecordResult, Optional[str]]:
        """Apply one record to ``rows`` (the working copy). Returns its result and its input key."""
        try:
            record = json.loads(text) if isinstance(text, (str, bytes)) else text
        except ValueError:
            return WriteRecordResult(False, None, "Record is not valid JSON"), None
        if not isinstance(record, dict):
            return WriteRecordResult(False, None, "Record is not a JSON object"), None
        if id_fields:
            present = [record.get(field) for field in id_fields if record.get(field) not in (None, "")]
            key = ",".join(_text(value) for value in present) or None
        else:
            key = _text(record[ID_FIELD]) if record.get(ID_FIELD) not in (None, "") else None
        try:
            if operation == WriteOperationType.INSERT:
                record_id = self._insert(name, fields, rows, _normalize(record, fields, name))
            else:
                keys = {}
                for field in id_fields:
                    if record.get(field) in (None, ""):
                        raise RecordError(f"Missing value for id field {field}")
                    keys[field] = record[field]
                matches = [row for row in rows if all(_same(row.get(f), v) for f, v in keys.items())]
                described = " and ".join(f"{f} = {_text(v)}" for f, v in keys.items())
                if operation == WriteOperationType.DELETE:
                    if not matches:
                        raise RecordError(f"No {name} record with {described}")
                    rows[:] = [row for row in rows if not any(row is match for match in matches)]
                    record_id = ",".join(_text(match.get(ID_FIELD)) for match in matches)
                elif matches:  # UPDATE, or UPSERT of an existing record
                    values = _normalize(record, fields, name)
                    for match in matches:
                        if ID_FIELD in values and not _same(values[ID_FIELD], match.get(ID_FIELD)):
                            raise RecordError(f"Field {ID_FIELD} is not updatable")
                    for match in matches:
                        match.update({k: v for k, v in values.items() if k != ID_FIELD})
                    record_id = ",".join(_text(match.get(ID_FIELD)) for match in matches)
                elif operation == WriteOperationType.UPSERT:
                    record_id = self._insert(name, fields, rows, _normalize(record, fields, name))
                else:
                    raise RecordError(f"No {name} record with {described}")
        except RecordError as problem:
            return WriteRecordResult(False, key, str(problem)), key
        return WriteRecordResult(True, record_id), key

    @staticmethod
    def _insert(name: str, fields: Mapping[str, FieldDefinition], rows: List[Dict[str, Any]],
                values: Dict[str, Any]) -> str:
        record_id = values.get(ID_FIELD)
        if record_id in (None, ""):
            record_id = _next_id(name, rows)
        elif any(_same(row.get(ID_FIELD), record_id) for row in rows):
            raise RecordError(f"duplicate Id {record_id}")
        for field_name, definition in fields.items():
            if field_name != ID_FIELD and definition.write_properties.is_nullable is False \
                    and values.get(field_name) is None:
                raise RecordError(f"Required field {field_name} is missing")
        row = {field_name: values.get(field_name) for field_name in fields}
        row[ID_FIELD] = record_id
        rows.append(row)
        return _text(record_id)


def _same(left: Any, right: Any) -> bool:
    if left is None or right is None:
        return left is None and right is None
    return left == right or _text(left) == _text(right)


def _next_id(name: str, rows: Sequence[Mapping[str, Any]]) -> str:
    prefix = ID_PREFIXES.get(name, name[:1].upper())
    numbers = [int(match.group(1)) for row in rows
               if (match := re.fullmatch(re.escape(prefix) + r"(\d+)", str(row.get(ID_FIELD) or "")))]
    return f"{prefix}{max(numbers, default=0) + 1:03d}"


def _normalize(record: Mapping[str, Any], fields: Mapping[str, FieldDefinition], name: str) -> Dict[str, Any]:
    """The record's values checked against the fields' types and constraints (and converted: "42" to 42
    for an Integer, "true" to True for a Boolean...)."""
    values = {}
    for field_name, value in record.items():
        if field_name == ID_FIELD and value in (None, ""):
            continue  # no Id: the store assigns one on insert
        definition = fields.get(field_name)
        if definition is None:
            raise RecordError(f"Field {field_name} does not exist in entity {name}")
        values[field_name] = _write_value(definition, value)
    return values


def _write_value(definition: FieldDefinition, value: Any) -> Any:
    name, data_type = definition.field_name, definition.data_type
    if value is None:
        if definition.write_properties.is_nullable is False:
            raise RecordError(f"Field {name} cannot be null")
        return None
    wrong = RecordError(f"Field {name} expects {data_type.name}, got {value!r}")
    if data_type in _INTEGER_TYPES:
        try:
            number = _decimal(value)
        except ValueError:
            raise wrong
        if number != number.to_integral_value():
            raise wrong
        value = int(number)
    elif data_type in _DECIMAL_TYPES:
        try:
            value = float(_decimal(value))
        except ValueError:
            raise wrong
    elif data_type == FieldDataType.Boolean:
        try:
            value = _boolean(value)
        except ValueError:
            raise wrong
    elif data_type == FieldDataType.Date:
        if not isinstance(value, str) or not _DATE_RE.fullmatch(value) or parse_instant(value) is None:
            raise wrong
    elif data_type == FieldDataType.DateTime:
        if not isinstance(value, str) or parse_instant(value) is None:
            raise wrong
    elif data_type == FieldDataType.String:
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise wrong
        value = value if isinstance(value, str) else str(value)
    _check_constraints(definition, value)
    return value


def _check_constraints(definition: FieldDefinition, value: Any) -> None:
    constraints, name = definition.constraints, definition.field_name
    if constraints is None:
        return
    if constraints.allowed_values is not None and value not in constraints.allowed_values:
        raise RecordError(f"Value {value!r} is not allowed for field {name} "
                          f"(allowed: {', '.join(constraints.allowed_values)})")
    pattern = constraints.allowed_values_regex_pattern
    if pattern and isinstance(value, str) and not re.fullmatch(pattern, value):
        raise RecordError(f"Value {value!r} of field {name} does not match {pattern}")
    lengths = constraints.allowed_length_range
    if lengths is not None and isinstance(value, str) and not lengths.min_range <= len(value) <= lengths.max_range:
        raise RecordError(f"Field {name} must be {lengths.min_range} to {lengths.max_range} characters long")
    bounds = constraints.allowed_value_range
    if bounds is not None and isinstance(value, (int, float)) and not bounds.min_range <= value <= bounds.max_range:
        raise RecordError(f"Field {name} must be between {bounds.min_range} and {bounds.max_range}")


# --- The connector -----------------------------------------------------------------------------


class MemoryConnector(BaseLambdaConnectorHandler):
    """The connector: the three handlers over one :class:`Store` (a fresh seeded one when None)."""

    def __init__(self, store: Optional[Store] = None) -> None:
        self.store = store if store is not None else Store(seed_records())
        super().__init__(MemoryMetadataHandler(self.store), MemoryRecordHandler(self.store),
                         MemoryConfigurationHandler(self.store))


STORE = Store(seed_records())
CONNECTOR = MemoryConnector(STORE)


def lambda_handler(event: Dict[str, Any], context: Any) -> Dict[str, Any]:
    """The Lambda entry point (handler ``memory_connector.lambda_handler``)."""
    return CONNECTOR.lambda_handler(event, context)
