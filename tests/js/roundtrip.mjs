// The JavaScript SDK (@aws-sdk/client-appflow) against appflow_emu's server: one round trip, printed
// as one JSON object on stdout for tests/server/test_js_client.py to check.
//
//   node roundtrip.mjs http://127.0.0.1:5055
//
// Each call is recorded as {status: $metadata.httpStatusCode, output: the answer without $metadata}
// (an error as {error: name, status, message}). Timestamps are also checked to have been parsed into
// valid Date objects (the SDK does that from the wire's epoch seconds).
import {
  AppflowClient,
  CreateConnectorProfileCommand,
  CreateFlowCommand,
  DeleteFlowCommand,
  DescribeFlowCommand,
  DescribeFlowExecutionRecordsCommand,
  ListFlowsCommand,
  ListTagsForResourceCommand,
  StartFlowCommand,
  TagResourceCommand,
  paginateListFlows,
} from "@aws-sdk/client-appflow";

const endpoint = process.argv[2];
if (!endpoint) {
  console.error("usage: node roundtrip.mjs ENDPOINT_URL");
  process.exit(2);
}

const client = new AppflowClient({
  endpoint,
  region: "us-east-1",
  credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
  maxAttempts: 1,
});

const results = {};
const badDates = [];

// Paths of every Date in a value, and of every field named like a timestamp that is not a valid Date.
function checkDates(value, path) {
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) badDates.push(path);
    return;
  }
  if (Array.isArray(value)) {
    value.forEach((v, i) => checkDates(v, `${path}[${i}]`));
  } else if (value !== null && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) {
      if (/(At|Time)$/.test(k) && !(v instanceof Date)) badDates.push(`${path}.${k}`);
      checkDates(v, `${path}.${k}`);
    }
  }
}

async function call(key, command) {
  try {
    const { $metadata, ...output } = await client.send(command);
    checkDates(output, key);
    results[key] = { status: $metadata.httpStatusCode, output };
  } catch (err) {
    results[key] = {
      error: err.name,
      status: err.$metadata ? err.$metadata.httpStatusCode : null,
      message: err.message,
      fault: err.$fault ?? null,
    };
  }
  return results[key];
}

const arn = "arn:aws:appflow:us-east-1:123456789012:flow/accounts";

await call("createConnectorProfile", new CreateConnectorProfileCommand({
  connectorProfileName: "sf",
  connectorType: "Salesforce",
  connectionMode: "Public",
  connectorProfileConfig: {
    connectorProfileProperties: { Salesforce: { instanceUrl: "https://x.my.salesforce.com" } },
    connectorProfileCredentials: { Salesforce: { accessToken: "at-secret" } },
  },
}));
await call("createFlow", new CreateFlowCommand({
  flowName: "accounts",
  description: "from the JavaScript SDK",
  triggerConfig: { triggerType: "OnDemand" },
  sourceFlowConfig: {
    connectorType: "Salesforce",
    connectorProfileName: "sf",
    sourceConnectorProperties: { Salesforce: { object: "Account" } },
  },
  destinationFlowConfigList: [
    { connectorType: "S3", destinationConnectorProperties: { S3: { bucketName: "out-bucket" } } },
  ],
  tasks: [
    { taskType: "Filter", sourceFields: ["Id", "Name"], connectorOperator: { Salesforce: "PROJECTION" } },
    { taskType: "Map_all", sourceFields: [], connectorOperator: { Salesforce: "NO_OP" }, taskProperties: {} },
  ],
  tags: { env: "ci" },
}));
await call("describeFlow", new DescribeFlowCommand({ flowName: "accounts" }));
await call("startFlow", new StartFlowCommand({ flowName: "accounts" }));
await call("describeFlowExecutionRecords", new DescribeFlowExecutionRecordsCommand({ flowName: "accounts" }));
await call("listFlows", new ListFlowsCommand({}));
await call("tagResource", new TagResourceCommand({ resourceArn: arn, tags: { team: "data" } }));
await call("listTagsForResource", new ListTagsForResourceCommand({ resourceArn: arn }));
await call("describeMissingFlow", new DescribeFlowCommand({ flowName: "missing" }));
await call("deleteFlow", new DeleteFlowCommand({ flowName: "accounts" }));
await call("listFlowsAfterDelete", new ListFlowsCommand({}));

// Pagination: three S3 flows, listed one per page by the SDK's paginator (nextToken round trips).
for (const name of ["page-a", "page-b", "page-c"]) {
  await call(`create-${name}`, new CreateFlowCommand({
    flowName: name,
    triggerConfig: { triggerType: "OnDemand" },
    sourceFlowConfig: { connectorType: "S3", sourceConnectorProperties: { S3: { bucketName: "in-bucket" } } },
    destinationFlowConfigList: [
      { connectorType: "S3", destinationConnectorProperties: { S3: { bucketName: "out-bucket" } } },
    ],
    tasks: [{ taskType: "Map_all", sourceFields: [], connectorOperator: { S3: "NO_OP" }, taskProperties: {} }],
  }));
}
const pages = [];
try {
  for await (const page of paginateListFlows({ client, pageSize: 1 }, {})) {
    pages.push(page.flows.map((f) => f.flowName));
  }
  results.paginatedListFlows = pages;
} catch (err) {
  results.paginatedListFlows = { error: err.name, message: err.message };
}

results.badDates = badDates;
process.stdout.write(JSON.stringify(results) + "\n");
