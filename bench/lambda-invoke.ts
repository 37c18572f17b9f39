/**
 * Child process of the Lambda bench: a cold start as Lambda does it, in a fresh process
 * with the deployed environment: `require` the bundle, then the first invocation, then warm
 * invocations. `floor` does the least any function making the same calls must: load the SDK
 * packages of the services the function called and send one of each call, cold then warm.
 * The bench runs this file compiled, in plain `node`: a loader such as tsx would hook every
 * `require` of the process, the measured ones too.
 * Prints { requireMs, firstMs, sinceStartMs, warmMs[] }; `sinceStartMs` is the end of the
 * first invocation counted from the process's own start (`performance.timeOrigin`), so it
 * holds Node.js's start-up as well.
 */
/* eslint-disable @typescript-eslint/no-require-imports */
import { floorCall } from './lambda-floor-calls';

const [mode, target, handlerName, eventJson, warmRuns] = process.argv.slice(2) as [string, string, string, string, string];

const ms = (since: bigint) => Number(process.hrtime.bigint() - since) / 1e6;

type Invoke = () => Promise<unknown>;
type Client = { send(command: unknown): Promise<unknown> };

const clients = new Map<string, Client>();

function floorInvoke(calls: string[]): Invoke {
  const requests = calls.map(floorCall);
  return async () => {
    for (const r of requests) {
      // each package loaded on its first call, as the function loads it
      const sdk = require(r.pkg) as Record<string, new (input: unknown) => Client>;
      let client = clients.get(r.pkg);
      if (!client) clients.set(r.pkg, (client = new sdk[r.client]!({})));
      await client.send(new sdk[r.command]!(r.input));
    }
  };
}

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
  const sinceStartMs = performance.now();
  const warmMs: number[] = [];
  for (let i = 0; i < Number(warmRuns); i++) {
    const t = process.hrtime.bigint();
    await invoke();
    warmMs.push(ms(t));
  }
  // the function's own log lines go to stdout too: the figures are the line marked so
  process.stdout.write(`\nBENCH ${JSON.stringify({ requireMs, firstMs, sinceStartMs, warmMs })}\n`);
}

void main().catch((error: unknown) => {
  process.stderr.write(String((error as Error)?.stack ?? error));
  process.exit(1);
});
