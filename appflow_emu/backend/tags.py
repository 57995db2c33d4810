"""Tags on flow ARNs (the only taggable AppFlow resource in the model)."""
from __future__ import annotations

from typing import Any, Dict

from appflow_emu.backend.handlers import handles
from appflow_emu.backend.resources import Flow
from appflow_emu.backend.runtime import Call, RegionState
from appflow_emu.model.errors import not_found, validation

MAX_TAGS = 50


def _resource(state: RegionState, arn: str) -> Flow:
    prefix = f"arn:aws:appflow:{state.region}:{state.account_id}:flow/"
    if arn.startswith(prefix):
        flow = state.flows.get(arn[len(prefix):])
        if flow is not None:
            return flow
    raise not_found(f"Resource {arn} does not exist.")  # [guess] text


@handles("TagResource")
def tag_resource(call: Call, p: Dict[str, Any]) -> Dict[str, Any]:
    flow = _resource(call.state, p["resourceArn"])
    merged = {**flow.tags, **p["tags"]}
    if len(merged) > MAX_TAGS:
        raise validation(f"A resource can have at most {MAX_TAGS} tags; this request would give it {len(merged)}.")
    flow.tags = merged
    return {}


@handles("UntagResource")
def untag_resource(call: Call, p: Dict[str, Any]) -> Dict[str, Any]:
    flow = _resource(call.state, p["resourceArn"])
    drop = set(p["tagKeys"])
    flow.tags = {k: v for k, v in flow.tags.items() if k not in drop}
    return {}


@handles("ListTagsForResource")
def list_tags_for_resource(call: Call, p: Dict[str, Any]) -> Dict[str, Any]:
    return {"tags": _resource(call.state, p["resourceArn"]).tags}
