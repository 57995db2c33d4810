"""Answering ``GetSecretValue`` for the connector profile secrets an emulator keeps itself.

On AWS a custom connector reads its profile's credentials with
``boto3.client("secretsmanager").get_secret_value(SecretId=credentialsArn)``. When the secret is in
the emulator's embedded Secrets Manager (moto is not active and no endpoint is set), the hook
(``intercept/hook.py``) hands that call here: a secret this emulator made is answered, through
botocore's own JSON parser, like Secrets Manager answers it; any other secret, and every other
Secrets Manager call, is not touched (the call goes on as it would without the emulator).
"""
from __future__ import annotations

import json
from typing import Any, Dict, Optional, Tuple

from botocore.awsrequest import AWSResponse

from appflow_emu.aws.neighbours import Neighbours
from appflow_emu.intercept.botocore_call import Answering

DEFAULT_URL = "https://secretsmanager.amazonaws.com/"
VERSION_STAGES = ["AWSCURRENT"]


class SecretsResponder(Answering):
    """What the hook asks about each ``GetSecretValue`` call while an emulator is active."""

    def __init__(self, neighbours: Neighbours, request_ids: Any) -> None:
        super().__init__("json")
        self.neighbours = neighbours  # its embedded Secrets Manager holds the secrets answered here
        self.request_ids = request_ids

    def __call__(self, model: Any, params: Dict[str, Any], context: Any,
                 request_signer: Any) -> Optional[Tuple[AWSResponse, Dict[str, Any]]]:
        try:
            request = json.loads(params.get("body") or b"{}")
        except ValueError:
            return None
        secret_id = request.get("SecretId") if isinstance(request, dict) else None
        if not isinstance(secret_id, str):
            return None
        found = self.neighbours.secrets_embedded.find(secret_id)
        if found is None:
            return None  # not ours: Secrets Manager (or moto) answers
        value = found.value.reveal()
        headers = {"x-amzn-RequestId": self.request_ids(), "Content-Type": "application/x-amz-json-1.1"}
        if value is None:
            # A secret restored from a document saved by another process: its value stayed there.
            status = 400
            headers["x-amzn-ErrorType"] = "ResourceNotFoundException"
            body: Dict[str, Any] = {"__type": "ResourceNotFoundException",
                                    "Message": "Secrets Manager can't find the specified secret value for staging "
                                               "label: AWSCURRENT"}
        else:
            status = 200
            body = {"ARN": found.arn, "Name": found.name, "VersionId": found.version_id, "SecretString": value,
                    "VersionStages": list(VERSION_STAGES), "CreatedDate": found.created_at}
        return self.answer(params.get("url", DEFAULT_URL), status, headers, json.dumps(body).encode("utf-8"), model)
