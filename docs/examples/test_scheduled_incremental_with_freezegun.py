"""A scheduled, incremental Salesforce -> S3 flow, driven by freezegun.

Scheduled runs happen as the clock moves: on every AppFlow call the emulator runs each tick of
each active schedule that the clock has passed, at its own tick time. Nothing sleeps, no thread
runs. An incremental pull reads only the records whose timestamp field (here LastModifiedDate)
lies in the run's window: [end of the last successful window, the tick).
Needs `pip install appflow_emu freezegun`.
"""
from datetime import datetime, timedelta, timezone

import boto3
from freezegun import freeze_time

from appflow_emu import mock_appflow

REGION = "us-east-1"
T0 = datetime(2024, 6, 3, 12, 0, tzinfo=timezone.utc)  # when the flow is activated


def sf_time(moment):
    """A datetime as Salesforce writes it: 2024-06-03T11:00:00.000+0000."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def runs_oldest_first(client, flow_name):
    """Every run of the flow (describe_flow_execution_records lists the newest first)."""
    runs = client.describe_flow_execution_records(flowName=flow_name, maxResults=100)["flowExecutions"]
    return list(reversed(runs))


def test_each_hourly_run_picks_up_only_new_records():
    # freeze_time first, then the mock: the emulator's clock is time.time(), which freezegun moves.
    with freeze_time(T0) as clock, mock_appflow() as emu:
        emu.create_bucket("crm-exports")
        client = boto3.client("appflow", region_name=REGION)
        client.create_connector_profile(
            connectorProfileName="salesforce-prod",
            connectorType="Salesforce",
            connectionMode="Public",
            connectorProfileConfig={
                "connectorProfileProperties": {"Salesforce": {"instanceUrl": "https://example.my.salesforce.com"}},
                "connectorProfileCredentials": {"Salesforce": {"accessToken": "example-access-token"}},
            },
        )

        # 1. What Salesforce holds before the first run: one contact changed 3 hours ago, one changed
        #    60 days ago (older than the first window, which reaches 30 days back).
        emu.add_source_records("Salesforce", "Contact", [
            {"Id": "003A", "LastName": "Lovelace", "LastModifiedDate": sf_time(T0 - timedelta(hours=3))},
            {"Id": "003B", "LastName": "Babbage", "LastModifiedDate": sf_time(T0 - timedelta(days=60))},
        ])

        # 2. An hourly flow that pulls incrementally on LastModifiedDate.
        client.create_flow(
            flowName="contacts-hourly",
            triggerConfig={
                "triggerType": "Scheduled",
                "triggerProperties": {"Scheduled": {
                    "scheduleExpression": "rate(1hours)",
                    "dataPullMode": "Incremental",
                }},
            },
            sourceFlowConfig={
                "connectorType": "Salesforce",
                "connectorProfileName": "salesforce-prod",
                "sourceConnectorProperties": {"Salesforce": {"object": "Contact"}},
                "incrementalPullConfig": {"datetimeTypeFieldName": "LastModifiedDate"},
            },
            destinationFlowConfigList=[{
                "connectorType": "S3",
                "destinationConnectorProperties": {"S3": {
                    "bucketName": "crm-exports",
                    "bucketPrefix": "contacts",
                    "s3OutputFormatConfig": {"fileType": "JSON"},
                }},
            }],
            tasks=[
                # Map_all: every field the source returns, as it is.
                {"taskType": "Map_all", "sourceFields": [], "connectorOperator": {"Salesforce": "NO_OP"},
                 "taskProperties": {}},
            ],
        )
        # A scheduled flow starts as Draft: nothing runs until start_flow activates it.
        assert client.describe_flow(flowName="contacts-hourly")["flowStatus"] == "Draft"
        assert runs_oldest_first(client, "contacts-hourly") == []

        # 3. Activate: rate() schedules run once at activation, then every hour.
        client.start_flow(flowName="contacts-hourly")
        assert client.describe_flow(flowName="contacts-hourly")["flowStatus"] == "Active"
        [first] = runs_oldest_first(client, "contacts-hourly")
        assert first["executionStatus"] == "Successful"
        assert first["dataPullStartTime"] == T0 - timedelta(days=30)
        assert first["dataPullEndTime"] == T0
        assert [r["Id"] for r in emu.destination_records("contacts-hourly", first["executionId"])] == ["003A"]

        # 4. Twenty minutes later a contact changes in Salesforce.
        clock.tick(timedelta(minutes=20))
        emu.add_source_records("Salesforce", "Contact", [
            {"Id": "003C", "LastName": "Hopper", "LastModifiedDate": sf_time(T0 + timedelta(minutes=20))},
        ])

        # 5. The clock passes 13:00: the next AppFlow call runs the 13:00 tick, which reads
        #    [12:00, 13:00) and so only the new contact.
        clock.tick(timedelta(minutes=45))
        first, second = runs_oldest_first(client, "contacts-hourly")
        assert second["startedAt"] == T0 + timedelta(hours=1)
        assert (second["dataPullStartTime"], second["dataPullEndTime"]) == (T0, T0 + timedelta(hours=1))
        assert [r["Id"] for r in emu.destination_records("contacts-hourly", second["executionId"])] == ["003C"]

        # 6. Nothing changes during the next hour: the 14:00 run delivers nothing and writes no file.
        clock.tick(timedelta(hours=1))
        first, second, third = runs_oldest_first(client, "contacts-hourly")
        assert third["executionStatus"] == "Successful"
        assert emu.destination_records("contacts-hourly", third["executionId"]) == []

        # Each run that delivered records wrote its own folder under s3://crm-exports/contacts/contacts-hourly/.
        folders = {key.split("/")[2] for key in emu.list_objects("crm-exports", prefix="contacts/contacts-hourly/")}
        assert folders == {first["executionId"], second["executionId"]}

        # 7. stop_flow suspends the schedule: no more runs however far the clock moves.
        client.stop_flow(flowName="contacts-hourly")
        clock.tick(timedelta(hours=5))
        assert len(runs_oldest_first(client, "contacts-hourly")) == 3
