"""``python -m appflow_emu demo | coverage | schema OPERATION [--output]``"""
from __future__ import annotations

import argparse
import json
import sys
from typing import Any, Dict, List, Optional

import boto3
import botocore

from appflow_emu.aws.lambdas import HANDLER_SPEC
from appflow_emu.backend import HANDLERS
from appflow_emu.mock import mock_appflow
from appflow_emu.model.errors import InvalidStateError
from appflow_emu.model.jsonschema import operation_schema
from appflow_emu.model.service import operation_model, operation_names, service_model


def demo() -> int:
    def say(text: str) -> None:
        print(text, flush=True)

    with mock_appflow(seed=1) as emu:
        client = boto3.client("appflow", region_name="us-east-1")
        say("appflow_emu demo: Amazon AppFlow in process (no AWS account, no network)\n")
        say("1. create_connector_profile 'zendesk-prod' (Zendesk, OAuth client credentials)")
        arn = client.create_connector_profile(
            connectorProfileName="zendesk-prod", connectorType="Zendesk", connectionMode="Public",
            connectorProfileConfig={
                "connectorProfileProperties": {"Zendesk": {"instanceUrl": "https://example.zendesk.com"}},
                "connectorProfileCredentials": {"Zendesk": {"clientId": "demo", "clientSecret": "never-shown",
                                                            "accessToken": "never-shown"}},
            },
        )["connectorProfileArn"]
        say(f"   -> {arn}")
        profile = client.describe_connector_profiles(connectorProfileNames=["zendesk-prod"])["connectorProfileDetails"][0]
        say(f"   credentials are stored behind {profile['credentialsArn']} and never returned")
        say("2. create_flow 'tickets-to-s3' (Zendesk tickets -> S3 CSV, on demand)")
        fields = ["id", "subject", "status"]
        # Any: boto3-stubs type create_flow's tasks as TypedDicts, which a list built up here is not.
        tasks: List[Any] = [{"sourceFields": fields, "connectorOperator": {"Zendesk": "PROJECTION"},
                             "taskType": "Filter"}]
        tasks += [{"sourceFields": [f], "connectorOperator": {"Zendesk": "NO_OP"}, "destinationField": f,
                   "taskType": "Map"} for f in fields]
        flow = client.create_flow(
            flowName="tickets-to-s3",
            triggerConfig={"triggerType": "OnDemand"},
            sourceFlowConfig={"connectorType": "Zendesk", "connectorProfileName": "zendesk-prod",
                              "sourceConnectorProperties": {"Zendesk": {"object": "tickets"}}},
            destinationFlowConfigList=[{"connectorType": "S3", "destinationConnectorProperties": {
                "S3": {"bucketName": "demo-bucket", "bucketPrefix": "zendesk",
                       "s3OutputFormatConfig": {"fileType": "CSV"}}}}],
            tasks=tasks,
            tags={"team": "support"},
        )
        say(f"   -> {flow['flowArn']} status={flow['flowStatus']}")
        say("3. seed the Zendesk 'tickets' entity with 3 records (emu.add_source_records)")
        emu.add_source_records("Zendesk", "tickets", [
            {"id": 1, "subject": "Printer on fire", "status": "open"},
            {"id": 2, "subject": "Password reset", "status": "solved"},
            {"id": 3, "subject": "VPN down", "status": "pending"},
        ])
        emu.create_bucket("demo-bucket")
        say("4. start_flow")
        run = client.start_flow(flowName="tickets-to-s3")
        say(f"   -> executionId={run['executionId']}")
        say("5. describe_flow_execution_records (newest first)")
        record = client.describe_flow_execution_records(flowName="tickets-to-s3")["flowExecutions"][0]
        for key in ("executionId", "executionStatus", "startedAt", "executionResult"):
            say(f"   {key}: {record[key]}")
        say("6. what landed in S3 (the embedded store; moto's S3 when moto is active)")
        for key in emu.list_objects("demo-bucket"):
            say(f"   s3://demo-bucket/{key}")
            for line in emu.get_object("demo-bucket", key).decode().splitlines():
                say(f"     {line}")
        described = client.describe_flow(flowName="tickets-to-s3")
        last = described["lastRunExecutionDetails"]
        say(f"7. describe_flow: status={described['flowStatus']} lastRun={last['mostRecentExecutionStatus']} "
            f"at {last['mostRecentExecutionTime'].isoformat()}")
        say("8. errors are AppFlow's own:")
        try:
            client.stop_flow(flowName="tickets-to-s3")
        except client.exceptions.UnsupportedOperationException as exc:
            say(f"   stop_flow on an OnDemand flow -> {exc.response['Error']['Code']} "
                f"(HTTP {exc.response['ResponseMetadata']['HTTPStatusCode']})")
        try:
            client.describe_flow(flowName="no-such-flow")
        except client.exceptions.ResourceNotFoundException as exc:
            say(f"   describe_flow of a missing flow -> {exc.response['Error']['Code']} "
                f"(HTTP {exc.response['ResponseMetadata']['HTTPStatusCode']}): {exc.response['Error']['Message']}")
        say(f"\nhandle: {emu.state('us-east-1')}")
    return 0


def coverage(fmt: str = "markdown") -> int:
    rows = []
    for name in operation_names():
        op = operation_model(name)
        errors = ", ".join(sorted(e.name for e in op.error_shapes))
        rows.append((name, f"{op.http['method']} {op.http['requestUri']}", "yes" if name in HANDLERS else "NO", errors))
    print(f"Operation coverage against the AppFlow model of botocore {botocore.__version__} "
          f"(API {service_model().api_version}): {sum(r[2] == 'yes' for r in rows)}/{len(rows)} operations.\n")
    print("| operation | HTTP | implemented | modelled errors |")
    print("|---|---|---|---|")
    for r in rows:
        print("| " + " | ".join(r) + " |")
    return 0 if all(r[2] == "yes" for r in rows) else 1


def schema(operation: str, output: bool) -> int:
    print(json.dumps(operation_schema(operation, output=output), indent=2))
    return 0


LOOPBACK = ("127.0.0.1", "localhost", "::1")
PROG = "python -m appflow_emu"


def start_error(message: str) -> int:
    """What ``serve`` does when it cannot start: one line on stderr, exit status 2, as argparse
    does for a bad argument (no traceback)."""
    print(f"{PROG}: error: {message}", file=sys.stderr)
    return 2


def serve(host: str, port: int, seed: int, state: Optional[str], account_id: Optional[str],
          s3_endpoint: Optional[str] = None, aws_endpoint: Optional[str] = None,
          lambda_endpoint: Optional[str] = None, lambdas: Optional[Dict[str, str]] = None,
          events_endpoint: Optional[str] = None) -> int:
    """Serve until SIGINT or SIGTERM; then finish the requests in flight, save ``--state``, exit 0."""
    import signal
    import threading

    from appflow_emu.server import AppFlowServer, state_folder_problem  # needs the [server] extra

    if host not in LOOPBACK:
        print(f"appflow_emu: warning: listening on {host}, not only on this machine: anyone who can reach "
              "it can drive the emulator (and its task definitions run as Python code here)", file=sys.stderr)
    problem = state_folder_problem(state)
    if problem is not None:
        return start_error(f"argument --state: {problem}")
    try:
        server = AppFlowServer(host=host, port=port, seed=seed, state=state, account_id=account_id,
                               s3_endpoint=s3_endpoint, aws_endpoint=aws_endpoint, lambda_endpoint=lambda_endpoint,
                               lambdas=lambdas, events_endpoint=events_endpoint)
    except (ValueError, TypeError) as e:  # the handle refused a setting: a --lambda function name, say
        return start_error(str(e))
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    try:
        server.start()
    except InvalidStateError as e:
        return start_error(f"argument --state: {e}")
    except UnicodeDecodeError as e:
        return start_error(f"argument --state: {state} is not a JSON state document: {e}")
    except OSError as e:  # the state file unreadable, or the port taken
        what = f"argument --state: cannot read {state}" if e.filename else f"cannot listen on {host}:{port}"
        return start_error(f"{what}: {e.strerror or e}")
    print(f"appflow_emu listening on {server.url}", flush=True)
    while not stop.wait(0.5):
        pass
    server.stop()
    return 0


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog=PROG)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("demo", help="run a flow end to end against the emulator")
    sub.add_parser("coverage", help="print the operation coverage table for the installed botocore")
    p = sub.add_parser("schema", help="print the JSON Schema of an operation's request (or --output response)")
    p.add_argument("operation")
    p.add_argument("--output", action="store_true")
    p = sub.add_parser("serve", help="serve AppFlow over HTTP (for the AWS CLI and other SDKs) until SIGINT/SIGTERM")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=5055, help="0 picks a free port")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--state", help="a snapshot file: loaded at start if it exists, saved at a clean shutdown")
    p.add_argument("--account-id", help="the account requests act in (default MOTO_ACCOUNT_ID or 123456789012)")
    p.add_argument("--aws-endpoint", help="where AppFlow's neighbours are (S3, Secrets Manager, Lambda, EventBridge, "
                                          "Glue), e.g. a moto_server; default: the embedded ones")
    p.add_argument("--events-endpoint", help="the EventBridge flow notifications go to; default: --aws-endpoint, "
                                             "else only GET /_appflow_emu/notifications")
    p.add_argument("--s3-endpoint", help="the S3 (e.g. a moto_server) S3 sources and destinations use; "
                                         "default: --aws-endpoint, else the embedded store")
    p.add_argument("--lambda-endpoint", help="a Lambda Invoke API (sam local start-lambda, LocalStack) answering "
                                             "custom connectors' Lambda ARNs that no --lambda names")
    p.add_argument("--lambda", dest="lambdas", action="append", default=[], metavar="ARN=MODULE:ATTRIBUTE",
                   help="run a custom connector's Lambda function (an ARN or a function name) in this process: "
                        "the handler 'package.module:attribute' (repeatable)")
    args = parser.parse_args(argv)
    if args.command == "serve":
        lambdas: Dict[str, str] = {}
        for spec in args.lambdas:
            function, equals, handler = spec.partition("=")
            if not equals or not function or not HANDLER_SPEC.match(handler):
                parser.error(f"argument --lambda: expected ARN=package.module:attribute, got {spec!r}")
            lambdas[function] = handler
        for name in ("aws_endpoint", "s3_endpoint", "lambda_endpoint", "events_endpoint"):
            value = getattr(args, name)
            if value is not None and not value.startswith(("http://", "https://")):
                parser.error(f"argument --{name.replace('_', '-')}: expected an http(s) URL, got {value!r}")
        return serve(args.host, args.port, args.seed, args.state, args.account_id, args.s3_endpoint,
                     args.aws_endpoint, args.lambda_endpoint, lambdas, args.events_endpoint)
    if args.command == "demo":
        return demo()
    if args.command == "coverage":
        return coverage()
    return schema(args.operation, args.output)


if __name__ == "__main__":
    sys.exit(main())
