"""Valid requests to build on in tests."""
from __future__ import annotations

import copy
import json
from typing import Any, Dict, List, Optional

import pytest
from botocore.exceptions import ClientError

PROFILE_CONFIGS: Dict[str, Dict[str, Any]] = {
    "Salesforce": {
        "connectorProfileProperties": {"Salesforce": {"instanceUrl": "https://example.my.salesforce.com"}},
        "connectorProfileCredentials": {"Salesforce": {"accessToken": "at-secret", "refreshToken": "rt-secret"}},
    },
    "Zendesk": {
        "connectorProfileProperties": {"Zendesk": {"instanceUrl": "https://example.zendesk.com"}},
        "connectorProfileCredentials": {"Zendesk": {"clientId": "cid", "clientSecret": "zendesk-secret", "accessToken": "tok"}},
    },
    "Servicenow": {
        "connectorProfileProperties": {"ServiceNow": {"instanceUrl": "https://example.service-now.com"}},
        "connectorProfileCredentials": {"ServiceNow": {"username": "u", "password": "sn-secret"}},
    },
    "Slack": {
        "connectorProfileProperties": {"Slack": {"instanceUrl": "https://example.slack.com"}},
        "connectorProfileCredentials": {"Slack": {"clientId": "cid", "clientSecret": "slack-secret", "accessToken": "tok"}},
    },
    "Marketo": {
        "connectorProfileProperties": {"Marketo": {"instanceUrl": "https://123-abc-456.mktorest.com"}},
        "connectorProfileCredentials": {"Marketo": {"clientId": "cid", "clientSecret": "marketo-secret", "accessToken": "tok"}},
    },
    "Redshift": {
        "connectorProfileProperties": {"Redshift": {"bucketName": "stage-bucket", "roleArn": "arn:aws:iam::123456789012:role/r",
                                                    "databaseUrl": "jdbc:redshift://h:5439/db"}},
        "connectorProfileCredentials": {"Redshift": {"username": "u", "password": "rs-secret"}},
    },
    "Snowflake": {
        "connectorProfileProperties": {"Snowflake": {"warehouse": "WH", "stage": "DB.SCHEMA.STAGE", "bucketName": "stage-bucket"}},
        "connectorProfileCredentials": {"Snowflake": {"username": "u", "password": "sf-secret"}},
    },
}


def profile_request(name: str, connector_type: str = "Zendesk", **extra: Any) -> Dict[str, Any]:
    req = {
        "connectorProfileName": name,
        "connectorType": connector_type,
        "connectionMode": "Public",
        "connectorProfileConfig": copy.deepcopy(PROFILE_CONFIGS[connector_type]),
    }
    req.update(extra)
    return req


def s3_destination(bucket: str = "out-bucket", prefix: str = "exports", file_type: Optional[str] = None) -> Dict[str, Any]:
    props: Dict[str, Any] = {"bucketName": bucket, "bucketPrefix": prefix}
    if file_type:
        props["s3OutputFormatConfig"] = {"fileType": file_type}
    return {"connectorType": "S3", "destinationConnectorProperties": {"S3": props}}


def s3_source(bucket: str = "in-bucket", prefix: str = "data") -> Dict[str, Any]:
    return {"connectorType": "S3", "sourceConnectorProperties": {"S3": {"bucketName": bucket, "bucketPrefix": prefix}}}


def projection_tasks(member: str, fields: List[str]) -> List[Dict[str, Any]]:
    tasks: List[Dict[str, Any]] = [{
        "sourceFields": list(fields),
        "connectorOperator": {member: "PROJECTION"},
        "taskType": "Filter",
        "taskProperties": {},
    }]
    for f in fields:
        tasks.append({
            "sourceFields": [f],
            "connectorOperator": {member: "NO_OP"},
            "destinationField": f,
            "taskType": "Map",
            "taskProperties": {"DESTINATION_DATA_TYPE": "string", "SOURCE_DATA_TYPE": "string"},
        })
    return tasks


def map_all() -> List[Dict[str, Any]]:
    """An S3 source's Map_all task (every field, none excluded)."""
    return [{"sourceFields": [], "connectorOperator": {"S3": "NO_OP"}, "taskType": "Map_all",
             "taskProperties": {"EXCLUDE_SOURCE_FIELDS_LIST": "[]"}}]


def partition(*keys: str) -> Dict[str, Any]:
    """An S3 source's Partition task on these keys."""
    return {"sourceFields": list(keys), "connectorOperator": {"S3": "NO_OP"}, "taskType": "Partition",
            "taskProperties": {"ORDERED_PARTITION_KEYS_LIST": json.dumps(list(keys))}}


def flow_request(name: str, trigger: str = "OnDemand", source: Optional[Dict[str, Any]] = None,
                 destination: Optional[Dict[str, Any]] = None, tasks: Optional[List[Dict[str, Any]]] = None,
                 schedule: str = "rate(5minutes)", **extra: Any) -> Dict[str, Any]:
    """An S3 -> S3 flow by default (no profiles needed)."""
    source = source or s3_source()
    if tasks is None:
        member = next(iter(source["sourceConnectorProperties"]))
        tasks = projection_tasks(member, ["id", "name"])
    trigger_config: Dict[str, Any] = {"triggerType": trigger}
    if trigger == "Scheduled":
        trigger_config["triggerProperties"] = {"Scheduled": {"scheduleExpression": schedule, "dataPullMode": "Complete"}}
    req = {
        "flowName": name,
        "triggerConfig": trigger_config,
        "sourceFlowConfig": source,
        "destinationFlowConfigList": [destination or s3_destination()],
        "tasks": tasks,
    }
    req.update(extra)
    return req


def salesforce_source(profile: str, obj: str = "Account") -> Dict[str, Any]:
    return {"connectorType": "Salesforce", "connectorProfileName": profile,
            "sourceConnectorProperties": {"Salesforce": {"object": obj}}}


def expect_error(call: Any, code: str, status: int, message: Optional[str] = None, **kwargs: Any) -> str:
    """Call ``call(**kwargs)``, expect a ClientError with this code and HTTP status (and message,
    if given); return the message."""
    with pytest.raises(ClientError) as info:
        call(**kwargs)
    err = info.value.response
    assert (err["Error"]["Code"], err["ResponseMetadata"]["HTTPStatusCode"]) == (code, status), err
    if message is not None:
        assert err["Error"]["Message"] == message
    return str(err["Error"]["Message"])
