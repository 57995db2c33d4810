"""Per-operation facts compiled once from the model: where each input member travels on the
wire (body, URI label, query string), and the operation's input and output checks."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable, Dict, Optional, Tuple

from botocore.model import OperationModel

from appflow_emu.model.prune import output_pruner
from appflow_emu.model.service import NO_CONTENT, operation_model, success_status
from appflow_emu.model.validate import Check, input_check, output_check


@dataclass(frozen=True)
class OperationSpec:
    name: str
    model: OperationModel
    uri_members: Dict[str, str]  # location name -> member name
    query_members: Dict[str, Tuple[str, bool]]  # location name -> (member name, is list)
    check_input: Optional[Check]
    check_output: Optional[Check]
    idempotency_member: Optional[str] = None  # e.g. clientToken
    prune_output: Callable[[Any], Any] = lambda value: value
    success_status: int = 200
    # An answer with no members (or a 204) has an empty body: [doc] "sends back an HTTP 200
    # response with an empty HTTP body"; [seen] for TagResource, UntagResource and DeleteFlow.
    empty_body: bool = False

    def params_from_wire(
        self, body: Dict[str, Any], labels: Dict[str, str], query: Dict[str, Any]
    ) -> Dict[str, Any]:
        """The request's members, wherever they travelled (body members are already in body)."""
        params = body
        for location_name, value in labels.items():
            member = self.uri_members.get(location_name)
            if member is not None:
                params[member] = value
        if query:
            for location_name, value in query.items():
                found = self.query_members.get(location_name)
                if found is None:
                    continue
                member, is_list = found
                if is_list:
                    params[member] = list(value) if isinstance(value, (list, tuple)) else [value]
                else:
                    params[member] = value[0] if isinstance(value, (list, tuple)) else value
        return params


@lru_cache(maxsize=None)
def spec(name: str) -> OperationSpec:
    op = operation_model(name)
    uri: Dict[str, str] = {}
    query: Dict[str, Tuple[str, bool]] = {}
    token: Optional[str] = None
    if op.input_shape is not None:
        for member_name, shape in op.input_shape.members.items():
            if shape.metadata.get("idempotencyToken"):
                token = member_name
            location = shape.serialization.get("location")
            location_name = shape.serialization.get("name", member_name)
            if location == "uri":
                uri[location_name] = member_name
            elif location == "querystring":
                query[location_name] = (member_name, shape.type_name == "list")
    return OperationSpec(
        name=name,
        model=op,
        uri_members=uri,
        query_members=query,
        check_input=input_check(op.input_shape) if op.input_shape is not None else None,
        check_output=output_check(op.output_shape) if op.output_shape is not None else None,
        idempotency_member=token,
        prune_output=output_pruner(op.output_shape) if op.output_shape is not None else (lambda value: value),
        success_status=success_status(name),
        empty_body=success_status(name) == NO_CONTENT or op.output_shape is None or not op.output_shape.members,
    )
