"""S3 -> S3 with moto: a CSV in a moto bucket goes through a flow into another moto bucket.

With moto's `mock_aws` active, appflow_emu answers AppFlow and moto answers everything else; the
flow reads and writes moto's buckets, so plain `boto3.client("s3")` calls see the flow's files.
Needs `pip install appflow_emu "moto[s3]"`.
"""
import csv
import io

import boto3
import pytest
from moto import mock_aws

from appflow_emu import mock_appflow

REGION = "us-east-1"

ORDERS_CSV = """order_id,customer,status,amount
o-1,Acme,paid,120.50
o-2,Globex,refunded,75.00
o-3,Initech,paid,9.99
"""


@pytest.fixture
def aws():
    # Both mocks, either order; torn down after the test.
    with mock_aws(), mock_appflow():
        yield


def test_paid_orders_are_copied_as_csv(aws):
    # 1. The input: a CSV object in a moto bucket, put with boto3's S3 client.
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket="raw-orders")
    s3.create_bucket(Bucket="clean-orders")
    s3.put_object(Bucket="raw-orders", Key="incoming/2024-06-01.csv", Body=ORDERS_CSV.encode("utf-8"))

    # 2. The flow: read every object under s3://raw-orders/incoming/ as CSV, keep paid orders, write
    #    CSV to s3://clean-orders/orders/. S3 flows need no connector profile.
    appflow = boto3.client("appflow", region_name=REGION)
    appflow.create_flow(
        flowName="paid-orders",
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
                "s3OutputFormatConfig": {"fileType": "CSV", "aggregationConfig": {"aggregationType": "None"}},
            }},
        }],
        tasks=[
            # Read these columns (CSV values are strings).
            {"taskType": "Filter", "sourceFields": ["order_id", "customer", "status", "amount"],
             "connectorOperator": {"S3": "PROJECTION"}, "taskProperties": {}},
            # Keep the rows whose status is "paid".
            {"taskType": "Filter", "sourceFields": ["status"], "connectorOperator": {"S3": "EQUAL_TO"},
             "taskProperties": {"DATA_TYPE": "string", "VALUE": "paid"}},
            # Write three columns; rename "customer" to "customer_name".
            {"taskType": "Map", "sourceFields": ["order_id"], "destinationField": "order_id",
             "connectorOperator": {"S3": "NO_OP"},
             "taskProperties": {"SOURCE_DATA_TYPE": "string", "DESTINATION_DATA_TYPE": "string"}},
            {"taskType": "Map", "sourceFields": ["customer"], "destinationField": "customer_name",
             "connectorOperator": {"S3": "NO_OP"},
             "taskProperties": {"SOURCE_DATA_TYPE": "string", "DESTINATION_DATA_TYPE": "string"}},
            {"taskType": "Map", "sourceFields": ["amount"], "destinationField": "amount",
             "connectorOperator": {"S3": "NO_OP"},
             "taskProperties": {"SOURCE_DATA_TYPE": "string", "DESTINATION_DATA_TYPE": "string"}},
        ],
    )

    # 3. Run it. The run has finished by the first poll.
    execution_id = appflow.start_flow(flowName="paid-orders")["executionId"]
    runs = appflow.describe_flow_execution_records(flowName="paid-orders")["flowExecutions"]
    [run] = [r for r in runs if r["executionId"] == execution_id]
    assert run["executionStatus"] == "Successful"

    # 4. Read the output with boto3's S3 client: s3://clean-orders/orders/paid-orders/<executionId>/<file>
    listing = s3.list_objects_v2(Bucket="clean-orders", Prefix=f"orders/paid-orders/{execution_id}/")
    keys = [o["Key"] for o in listing.get("Contents", [])]
    assert keys, "the run wrote no object"
    rows = []
    for key in keys:
        body = s3.get_object(Bucket="clean-orders", Key=key)["Body"].read().decode("utf-8")
        rows += list(csv.DictReader(io.StringIO(body)))
    assert rows == [
        {"order_id": "o-1", "customer_name": "Acme", "amount": "120.50"},
        {"order_id": "o-3", "customer_name": "Initech", "amount": "9.99"},
    ]

    # The input is untouched.
    assert [o["Key"] for o in s3.list_objects_v2(Bucket="raw-orders")["Contents"]] == ["incoming/2024-06-01.csv"]
