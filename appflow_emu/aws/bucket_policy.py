"""Whether a bucket policy denies AppFlow an object request, judged as S3 judges it.

AppFlow reaches S3 as its service principal (``appflow.amazonaws.com``), over TLS, on behalf of the
bucket owner's account. moto's S3 judges a bucket policy without its conditions and without its
principals (``put_bucket_policy``: "Only statements with principal=* are taken into account;
Conditions are not taken into account"): a data lake's "deny insecure transport" statement (Deny
``s3:*`` to ``*`` when ``aws:SecureTransport`` is false) denies every request there, and an
``aws:SourceAccount`` condition is ignored. :func:`denies` is the judgement S3 makes for AppFlow's
request; ``aws/s3.py`` asks it when moto answers 403, so a policy moto misjudges does not fail a
run that succeeds on AWS.

What is judged: the statements with ``Effect`` ``Deny`` whose ``Principal``/``NotPrincipal``,
``Action``/``NotAction``, ``Resource``/``NotResource`` and every ``Condition`` match the request.
An explicit Deny is all that refuses: the emulator does not ask for the Allow statement AppFlow's
documentation tells users to add for ``appflow.amazonaws.com`` [guess: lenient on purpose; see
docs/fidelity.md]. The request's condition keys are :func:`request_context`'s; a key the request
does not have matches no condition operator but the negated ones (``StringNotEquals``...), ``Null``
and the ``...IfExists`` forms, as in IAM. A condition operator this module does not know matches
nothing (the statement does not apply) [guess].
"""
from __future__ import annotations

import json
import re
from typing import Any, Dict, Iterable, List, Mapping, Optional

APPFLOW_PRINCIPAL = "appflow.amazonaws.com"


def request_context(account_id: str) -> Dict[str, str]:
    """The global condition keys of AppFlow's request to a bucket of ``account_id``."""
    return {
        "aws:securetransport": "true",
        "aws:sourceaccount": account_id,
        "aws:principalservicename": APPFLOW_PRINCIPAL,
        "aws:principalisawsservice": "true",
        "aws:principaltype": "AWSService",  # [guess]
    }


def _values(value: Any) -> List[str]:
    if isinstance(value, list):
        return [str(v).lower() if isinstance(v, bool) else str(v) for v in value]
    return [str(value).lower() if isinstance(value, bool) else str(value)]


def _like(pattern: str, text: str, case: bool = True) -> bool:
    """IAM's wildcards: ``*`` any run of characters, ``?`` any one."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, text, 0 if case else re.IGNORECASE) is not None


def _principal_matches(principal: Any) -> bool:
    """Whether a ``Principal`` element names AppFlow (``*``, ``{"AWS": "*"}``, its service)."""
    if principal == "*":
        return True
    if not isinstance(principal, Mapping):
        return False
    if "*" in _values(principal.get("AWS", [])):
        return True
    return APPFLOW_PRINCIPAL in _values(principal.get("Service", []))


_POSITIVE = {
    "StringEquals": lambda want, got: want == got,
    "StringEqualsIgnoreCase": lambda want, got: want.lower() == got.lower(),
    "StringLike": lambda want, got: _like(want, got),
    "ArnEquals": lambda want, got: want == got,
    "ArnLike": lambda want, got: _like(want, got),
    "Bool": lambda want, got: want.lower() == got.lower(),
}
_NEGATED = {"StringNotEquals": "StringEquals", "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
            "StringNotLike": "StringLike", "ArnNotEquals": "ArnEquals", "ArnNotLike": "ArnLike"}


def _condition_matches(operator: str, key: str, wanted: Any, context: Mapping[str, str]) -> bool:
    if_exists = operator.endswith("IfExists")
    name = operator[:-len("IfExists")] if if_exists else operator
    name = name.split(":", 1)[1] if name.startswith(("ForAnyValue:", "ForAllValues:")) else name
    got = context.get(key.lower())
    want = _values(wanted)
    if name == "Null":  # "true": the key is absent
        return (got is None) == (want[0].lower() == "true") if want else False
    if got is None:
        return if_exists or name in _NEGATED
    if name in _NEGATED:
        test = _POSITIVE[_NEGATED[name]]
        return not any(test(w, got) for w in want)
    positive = _POSITIVE.get(name)
    return positive is not None and any(positive(w, got) for w in want)


def _applies(statement: Mapping[str, Any], action: str, resource: str, context: Mapping[str, str]) -> bool:
    if "NotPrincipal" in statement:
        if _principal_matches(statement["NotPrincipal"]):
            return False
    elif not _principal_matches(statement.get("Principal")):
        return False
    if "NotAction" in statement:
        if any(_like(a, action, case=False) for a in _values(statement["NotAction"])):
            return False
    elif not any(_like(a, action, case=False) for a in _values(statement.get("Action", []))):
        return False
    if "NotResource" in statement:
        if any(_like(r, resource) for r in _values(statement["NotResource"])):
            return False
    elif not any(_like(r, resource) for r in _values(statement.get("Resource", []))):
        return False
    conditions = statement.get("Condition") or {}
    if not isinstance(conditions, Mapping):
        return False
    for operator, pairs in conditions.items():
        if not isinstance(pairs, Mapping):
            return False
        for key, wanted in pairs.items():
            if not _condition_matches(str(operator), str(key), wanted, context):
                return False
    return True


def _statements(policy: Any) -> Iterable[Mapping[str, Any]]:
    found = policy.get("Statement", []) if isinstance(policy, Mapping) else []
    return [s for s in (found if isinstance(found, list) else [found]) if isinstance(s, Mapping)]


def denies(policy_text: Optional[str], action: str, bucket: str, key: str, account_id: str) -> bool:
    """Whether the bucket policy ``policy_text`` explicitly denies AppFlow ``action`` (``s3:PutObject``)
    on ``bucket``/``key``. No policy, or one that is not JSON, denies nothing."""
    if not policy_text:
        return False
    try:
        policy = json.loads(policy_text)
    except ValueError:
        return False
    resource = f"arn:aws:s3:::{bucket}/{key}"
    context = request_context(account_id)
    return any(str(s.get("Effect", "")) == "Deny" and _applies(s, action, resource, context)
               for s in _statements(policy))

