"""An event-driven pipeline: an AppFlow run -> EventBridge -> SQS -> your code, which loads the run's files.

When a run ends, AppFlow publishes an "AppFlow End Flow Run Report" event on the account's default
EventBridge bus. Here a rule sends the reports of successful runs to an SQS queue, and the pipeline's
own code (`load_finished_run`) reads each message and loads the run's output files from S3, finding
them by the event's fields. With moto's `mock_aws` active, appflow_emu puts its notifications on
moto's EventBridge: the rule, the queue and the buckets are all moto's. The second test reads the
same events without moto, from the handle's `notifications()`.
Needs `pip install appflow_emu "moto[s3,sqs,events]"`.
"""
import json

import boto3
import pytest
from moto import mock_aws

REGION = "us-east-1"
END_REPORT = "AppFlow End Flow Run Report"

ORDERS_CSV = """order_id,customer,amount
o-1,Acme,120.50
o-2,Globex,75.00
"""


# -- the pipeline's own code ---------------------------------------------------------------------------

def run_output_folder(event):
    """Where a run wrote its files: (bucket, "<bucketPrefix>/<flow name>/<execution id>/"). The End
    Flow Run Report's destination-object is the flow's destination as configured, "s3://bucket" or
    "s3://bucket/prefix"; AppFlow writes under the flow's name, one folder per run."""
    detail = event["detail"]
    bucket, _, prefix = detail["destination-object"].removeprefix("s3://").partition("/")
    parts = [part for part in (prefix.strip("/"), detail["flow-name"], detail["execution-id"]) if part]
    return bucket, "/".join(parts) + "/"


def load_finished_run(message_body, s3):
    """The consumer: one SQS message (an End Flow Run Report, as the rule delivers it) -> the records
    of that run, read from its JSON lines files."""
    event = json.loads(message_body)
    detail = event["detail"]
    bucket, folder = run_output_folder(event)
    records = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=folder):
        for obj in page.get("Contents", []):
            body = s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read().decode("utf-8")
            records += [json.loads(line) for line in body.splitlines() if line.strip()]
    # Every value in the event's detail is a string, the counts too.
    return {"flow": detail["flow-name"], "execution_id": detail["execution-id"],
            "records_processed": int(detail["num-of-records-processed"]), "records": records}


def create_orders_flow(appflow):
    """An on-demand flow: every CSV under s3://raw-orders/incoming/ -> JSON lines under s3://clean-orders/orders/."""
    appflow.create_flow(
        flowName="orders-export",
        triggerConfig={"triggerType": "OnDemand"},
        sourceFlowConfig={
            "connectorType": "S3",
            "sourceConnectorProperties": {"S3": {
                "bucketName": "raw-orders",
                "bucketPrefix": "incoming",
                "s3InputFormatConfig": {"s3InputFileType": "CSV"},
            }},
        },
        destinationFlowConfigList=[{
            "connectorType": "S3",
            "destinationConnectorProperties": {"S3": {
                "bucketName": "clean-orders",
                "bucketPrefix": "orders",
                "s3OutputFormatConfig": {"fileType": "JSON"},
            }},
        }],
        tasks=[{"taskType": "Map_all", "sourceFields": [], "connectorOperator": {"S3": "NO_OP"}, "taskProperties": {}}],
    )


# -- the tests -------------------------------------------------------------------------------------------

@pytest.fixture
def aws():
    with mock_aws():
        yield


def test_successful_runs_reach_the_consumer_through_eventbridge_and_sqs(aws, appflow_mock):
    s3 = boto3.client("s3", region_name=REGION)
    sqs = boto3.client("sqs", region_name=REGION)
    events = boto3.client("events", region_name=REGION)
    appflow = boto3.client("appflow", region_name=REGION)

    # 1. The data: a CSV in a moto bucket, and the bucket the flow writes to.
    s3.create_bucket(Bucket="raw-orders")
    s3.create_bucket(Bucket="clean-orders")
    s3.put_object(Bucket="raw-orders", Key="incoming/2024-06-01.csv", Body=ORDERS_CSV.encode("utf-8"))

    # 2. The wiring: a rule on the default bus matching the End Flow Run Report of successful runs,
    #    with the queue as its target. (On AWS the queue also needs a policy that lets
    #    events.amazonaws.com send to it; moto does not check.)
    queue_url = sqs.create_queue(QueueName="finished-runs")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="appflow-run-succeeded", EventPattern=json.dumps({
        "source": ["aws.appflow"],
        "detail-type": [END_REPORT],
        "detail": {"status": ["Execution Successful"]},
    }))
    events.put_targets(Rule="appflow-run-succeeded", Targets=[{"Id": "finished-runs", "Arn": queue_arn}])

    # 3. Two runs: one succeeds; the next fails (armed with the handle), and the rule does not match
    #    its report ("status": "Execution Failed", with the reason in "error").
    create_orders_flow(appflow)
    execution_id = appflow.start_flow(flowName="orders-export")["executionId"]
    appflow_mock.fail_next_execution("orders-export", "The source bucket could not be read.")
    appflow.start_flow(flowName="orders-export")

    # 4. The consumer: one message, for the successful run; it finds the run's files by the event.
    messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
    assert len(messages) == 1
    loaded = load_finished_run(messages[0]["Body"], s3)
    assert loaded == {
        "flow": "orders-export",
        "execution_id": execution_id,
        "records_processed": 2,
        "records": [
            {"order_id": "o-1", "customer": "Acme", "amount": "120.50"},
            {"order_id": "o-2", "customer": "Globex", "amount": "75.00"},
        ],
    }
    sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=messages[0]["ReceiptHandle"])


def test_the_handle_keeps_every_notification_without_moto(appflow_mock):
    # No EventBridge here: the emulator keeps every notification it publishes, as a rule's target
    # would receive it, and the handle's buckets hold the files.
    appflow_mock.put_object("raw-orders", "incoming/2024-06-01.csv", ORDERS_CSV)
    appflow_mock.create_bucket("clean-orders")
    appflow = boto3.client("appflow", region_name=REGION)
    create_orders_flow(appflow)
    execution_id = appflow.start_flow(flowName="orders-export")["executionId"]
    appflow_mock.fail_next_execution("orders-export", "The source bucket could not be read.")
    failed_id = appflow.start_flow(flowName="orders-export")["executionId"]

    # Each run published a Start and an End Flow Run Report, oldest first.
    assert [(n["detail-type"], n["detail"]["execution-id"]) for n in appflow_mock.notifications("orders-export")] == [
        ("AppFlow Start Flow Run Report", execution_id), (END_REPORT, execution_id),
        ("AppFlow Start Flow Run Report", failed_id), (END_REPORT, failed_id),
    ]
    succeeded, failed = appflow_mock.notifications("orders-export", detail_type=END_REPORT)
    assert succeeded["source"] == "aws.appflow"
    assert succeeded["detail"]["status"] == "Execution Successful"
    assert succeeded["detail"]["destination-object"] == "s3://clean-orders/orders"
    assert (failed["detail"]["status"], failed["detail"]["error"]) == (
        "Execution Failed", "The source bucket could not be read.")

    # The pipeline's own code finds the run's files from the event.
    bucket, folder = run_output_folder(succeeded)
    assert (bucket, folder) == ("clean-orders", f"orders/orders-export/{execution_id}/")
    keys = appflow_mock.list_objects(bucket, prefix=folder)
    assert keys
    rows = [json.loads(line) for key in keys for line in appflow_mock.get_object(bucket, key).splitlines()]
    assert [row["order_id"] for row in rows] == ["o-1", "o-2"]
