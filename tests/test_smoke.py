
from tests.helpers import flow_request


def test_create_describe_start(client, appflow_mock):
    client.create_flow(**flow_request("f1"))
    out = client.describe_flow(flowName="f1")
    assert out["flowStatus"] == "Active"
    assert out["triggerConfig"] == {"triggerType": "OnDemand", "triggerProperties": {}}
    run = client.start_flow(flowName="f1")
    assert run["executionId"]
    recs = client.describe_flow_execution_records(flowName="f1")["flowExecutions"]
    assert [r["executionId"] for r in recs] == [run["executionId"]]
    assert "f1" in appflow_mock.state("us-east-1").flows
