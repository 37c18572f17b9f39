/**
 * The fake AWS endpoint in a process of its own (the sweep benchmark): its CPU is not the
 * sweep's. Prints its URL on the first line of stdout, serves until killed.
 * Arguments: latency in ms, number of buckets ListBuckets answers.
 */
import { startFakeAwsEndpoint } from './fake-aws-endpoint';

async function main(): Promise<void> {
  const latency = Number(process.argv[2] ?? 20);
  const count = Number(process.argv[3] ?? 1000);
  const names = Array.from({ length: count }, (_, i) => `bucket-${String(i).padStart(6, '0')}`);
  const endpoint = await startFakeAwsEndpoint(latency, names);
  process.stdout.write(`${endpoint.url}\n`);
}

void main();
