"""Task operators and field types: the one table every part reads.

- Which operators each task type takes (create_flow and update_flow check it; the task compiler
  runs it).
- The families of field types (``DATA_TYPE`` of a Filter, ``DESTINATION_DATA_TYPE`` of a Map, the
  ``fieldType`` of an entity's field): numbers (32-bit, 64-bit and floating), booleans, times,
  text, and other types (struct, list, or a type this table does not know).
  A Filter compares values by the family of its ``DATA_TYPE``; a Map converts by the family of its
  ``DESTINATION_DATA_TYPE``; entity discovery advertises the operators that suit a field's family.
  All three call :func:`type_family`, so a type cannot be a number to one and text to another.
- Which operators a field of each family advertises (``filterOperators``).

Type names are compared lower-cased. A Filter and entity discovery treat other types as text; a
Map keeps their values as they are.
"""
from __future__ import annotations

from typing import Dict, FrozenSet, Iterable, List, Tuple

# -- field types -----------------------------------------------------------------------------------

INT32_TYPES: FrozenSet[str] = frozenset({"int", "integer", "short", "byte", "int32"})
INT64_TYPES: FrozenSet[str] = frozenset({"long", "bigint", "int64", "biginteger"})  # biginteger: the custom connector SDK
FLOAT_TYPES: FrozenSet[str] = frozenset({"double", "float", "decimal", "number", "currency", "percent", "real",
                                         "numeric", "bigdecimal"})  # bigdecimal: the custom connector SDK
NUMERIC_TYPES: FrozenSet[str] = INT32_TYPES | INT64_TYPES | FLOAT_TYPES
BOOLEAN_TYPES: FrozenSet[str] = frozenset({"boolean", "bool"})
TEMPORAL_TYPES: FrozenSet[str] = frozenset({"date", "datetime", "timestamp", "time"})
DATETIME_TYPES: FrozenSet[str] = frozenset({"datetime", "timestamp"})  # a date and a time of day: supportedDateFormat
TEXT_TYPES: FrozenSet[str] = frozenset({"string", "str", "text", "varchar", "char", "id", "reference", "picklist",
                                        "multipicklist", "textarea", "email", "phone", "url", "combobox",
                                        "encryptedstring"})

NUMERIC, BOOLEAN, TEMPORAL, TEXT, OTHER = "numeric", "boolean", "temporal", "text", "other"


def type_family(field_type: str) -> str:
    """``numeric``, ``boolean``, ``temporal``, ``text`` or ``other``, whatever the case of the name."""
    t = field_type.strip().lower()
    if t in NUMERIC_TYPES:
        return NUMERIC
    if t in BOOLEAN_TYPES:
        return BOOLEAN
    if t in TEMPORAL_TYPES:
        return TEMPORAL
    if t in TEXT_TYPES:
        return TEXT
    return OTHER


# -- operators by task type ------------------------------------------------------------------------

PROJECTION = "PROJECTION"
NO_OP = "NO_OP"
# Comparisons, with the Python operator the task compiler emits for each.
ORDERING: Dict[str, str] = {"LESS_THAN": "<", "GREATER_THAN": ">", "LESS_THAN_OR_EQUAL_TO": "<=",
                            "GREATER_THAN_OR_EQUAL_TO": ">="}
EQUALITY: Tuple[str, ...] = ("EQUAL_TO", "NOT_EQUAL_TO")
VALUE_FILTER_OPERATORS: FrozenSet[str] = frozenset({*ORDERING, *EQUALITY, "BETWEEN", "CONTAINS"})
FILTER_OPERATORS: FrozenSet[str] = VALUE_FILTER_OPERATORS | {PROJECTION}
ARITHMETIC: Dict[str, str] = {"ADDITION": "+", "MULTIPLICATION": "*", "DIVISION": "/", "SUBTRACTION": "-"}
MASK_OPERATORS: FrozenSet[str] = frozenset({"MASK_ALL", "MASK_FIRST_N", "MASK_LAST_N"})
NUMERIC_VALIDATIONS: Tuple[str, ...] = ("VALIDATE_NON_ZERO", "VALIDATE_NON_NEGATIVE", "VALIDATE_NUMERIC")
VALIDATE_OPERATORS: FrozenSet[str] = frozenset({"VALIDATE_NON_NULL", *NUMERIC_VALIDATIONS})

# Which operators each task type takes. Task types not listed take any operator of the source.
TASK_OPERATORS: Dict[str, FrozenSet[str]] = {
    "Filter": FILTER_OPERATORS,
    "Arithmetic": frozenset(ARITHMETIC),
    "Mask": MASK_OPERATORS,
    "Validate": VALIDATE_OPERATORS,
}

# -- what a field advertises -------------------------------------------------------------------------

_ORDERED_FILTERS = ("LESS_THAN", "GREATER_THAN", "BETWEEN", "LESS_THAN_OR_EQUAL_TO", "GREATER_THAN_OR_EQUAL_TO",
                    "EQUAL_TO", "NOT_EQUAL_TO")
# The value filters that suit each family: ordered comparisons for numbers and times, equality for
# booleans, equality and CONTAINS for text.
FAMILY_FILTERS: Dict[str, Tuple[str, ...]] = {
    NUMERIC: _ORDERED_FILTERS,
    TEMPORAL: _ORDERED_FILTERS,
    BOOLEAN: EQUALITY,
    TEXT: ("EQUAL_TO", "NOT_EQUAL_TO", "CONTAINS"),
}
FAMILY_FILTERS[OTHER] = FAMILY_FILTERS[TEXT]  # other types filter as text
# What else a field of each family takes: arithmetic and the numeric validations for numbers,
# masks for text, VALIDATE_NON_NULL for all.
FAMILY_TRANSFORMS: Dict[str, Tuple[str, ...]] = {
    NUMERIC: (*ARITHMETIC, "VALIDATE_NON_NULL", *NUMERIC_VALIDATIONS),
    TEMPORAL: ("VALIDATE_NON_NULL",),
    BOOLEAN: ("VALIDATE_NON_NULL",),
    TEXT: ("MASK_ALL", "MASK_FIRST_N", "MASK_LAST_N", "VALIDATE_NON_NULL"),
}
FAMILY_TRANSFORMS[OTHER] = FAMILY_TRANSFORMS[TEXT]


def field_operators(field_type: str, available: Iterable[str], filters_only: bool = False) -> List[str]:
    """The operators a field of this type advertises (``filterOperators``), kept to ``available``
    (the connector's operator enum): a projection, the value filters that suit the type's family,
    then (unless ``filters_only``) the arithmetic, masks and validations that suit it."""
    family = type_family(field_type)
    wanted = [PROJECTION, *FAMILY_FILTERS[family]]
    if not filters_only:
        wanted += FAMILY_TRANSFORMS[family]
    have = frozenset(available)
    return [op for op in wanted if op in have]
