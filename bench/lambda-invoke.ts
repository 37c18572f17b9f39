/**
 * Child process of the Lambda bench: a cold start as Lambda does it, in a fresh process
 * with the deployed environment: `require` the bundle, then the first invocation, then warm
 * invocations. `floor` does the least any function making the same calls must: load the SDK
 * packages of the services the function called and send one of each call, cold then warm.
 * Prints { requireMs, firstMs, warmMs[] }.
 */
/* eslint-disable @typescript-eslint/no-require-imports */
const [mode, target, handlerName, eventJson, warmRuns] = process.argv.slice(2) as [string, string, string, string, string];

const ms = (since: bigint) => Number(process.hrtime.bigint() - since) / 1e6;

type Invoke = () => Promise<unknown>;

function floorInvoke(calls: string[]): Invoke {
  const sends = calls.map((call) => {
    const [service, operation] = call.split(':') as [string, string];
    return () => {
      if (service === 's3') {
        const s3 = require('@aws-sdk/client-s3') as typeof import('@aws-sdk/client-s3');
        const client = (clients.s3 ??= new s3.S3Client({}));
        const input = { Bucket: 'rampart-demo-logs' };
        const c = client as InstanceType<typeof s3.S3Client>;
        return operation === 'GetBucketTagging'
          ? c.send(new s3.GetBucketTaggingCommand(input))
          : c.send(new s3.GetBucketEncryptionCommand(input));
      }
      if (service === 'sns') {
        const sns = require('@aws-sdk/client-sns') as typeof import('@aws-sdk/client-sns');
        const client = (clients.sns ??= new sns.SNSClient({}));
        return (client as InstanceType<typeof sns.SNSClient>).send(
          new sns.PublishCommand({ TopicArn: 'arn:aws:sns:us-east-1:111122223333:t', Message: 'm' }),
        );
      }
      const pkg = service.startsWith('DynamoDB') ? '@aws-sdk/client-dynamodb' : '@aws-sdk/client-sfn';
      const sdk = require(pkg) as Record<string, new (input: unknown) => { send(c: unknown): Promise<unknown> }>;
      const Client = sdk[service.startsWith('DynamoDB') ? 'DynamoDBClient' : 'SFNClient']!;
      const client = (clients[pkg] ??= new Client({}));
      return (client as { send(c: unknown): Promise<unknown> }).send(new sdk[`${operation}Command`]!({}));
    };
  });
  return async () => {
    for (const send of sends) await send();
  };
}
const clients: Record<string, unknown> = {};

async function main(): Promise<void> {
  const event = JSON.parse(eventJson) as unknown;
  const start = process.hrtime.bigint();
  let invoke: Invoke;
  if (mode === 'floor') {
    invoke = floorInvoke(JSON.parse(target) as string[]);
  } else {
    const handler = (require(target) as Record<string, (e: unknown, c: unknown) => Promise<unknown>>)[handlerName]!;
    invoke = () =>
      handler(event, {
        functionName: 'bench',
        awsRequestId: 'bench',
        invokedFunctionArn: 'arn:aws:lambda:us-east-1:111122223333:function:bench',
      });
  }
  const requireMs = ms(start);
  const first = process.hrtime.bigint();
  await invoke();
  const firstMs = ms(first);
  const warmMs: number[] = [];
  for (let i = 0; i < Number(warmRuns); i++) {
    const t = process.hrtime.bigint();
    await invoke();
    warmMs.push(ms(t));
  }
  // the function's own log lines go to stdout too: the figures are the line marked so
  process.stdout.write(`\nBENCH ${JSON.stringify({ requireMs, firstMs, warmMs })}\n`);
}

void main().catch((error: unknown) => {
  process.stderr.write(String((error as Error)?.stack ?? error));
  process.exit(1);
});
