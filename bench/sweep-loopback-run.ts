/**
 * Child process of the sweep benchmark with the real SDK: the S3 sweep of `count` buckets
 * against the fake endpoint (its own process, every call `latency` ms), then, in the same run,
 * the floor: the same calls (the listing, then GetBucketEncryption and GetBucketTagging of each
 * bucket together, `concurrency` buckets at once) from a bare S3 client with the SDK's middleware
 * cache, the two in alternating rounds after one warm-up round each. Prints the resources,
 * seconds and CPU of every round of both.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { GetBucketEncryptionCommand, GetBucketTaggingCommand, S3Client, paginateListBuckets } from '@aws-sdk/client-s3';
import { createAwsClients } from '../core/aws';
import { parsePolicy } from '../controls/policy';
import { sweep } from '../detectors/sweep';
import { DETECTORS } from '../controls';
import { alternately } from './paired';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const CREDENTIALS = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' };

async function endpointProcess(latency: number, count: number): Promise<{ url: string; stop: () => void }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(__dirname, 'fake-aws-endpoint-process.ts'), String(latency), String(count)],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const url = await new Promise<string>((resolve, reject) => {
    let text = '';
    child.stdout.on('data', (c: Buffer) => {
      text += c.toString('utf8');
      if (text.includes('\n')) resolve(text.split('\n')[0]!.trim());
    });
    child.on('exit', (code) => reject(new Error(`the fake endpoint exited (${code})`)));
  });
  return { url, stop: () => child.kill() };
}

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

type Run = { resources: number; seconds: number; cpuMs: number };

async function measure(run: () => Promise<number>): Promise<Run> {
  const cpu = cpuMs();
  const start = performance.now();
  const resources = await run();
  return { resources, seconds: (performance.now() - start) / 1000, cpuMs: cpuMs() - cpu };
}

async function main(): Promise<void> {
  const count = Number(process.argv[2] ?? 2000);
  const latency = Number(process.argv[3] ?? 20);
  const concurrency = Number(process.argv[4] ?? 32);
  const rounds = Number(process.argv[5] ?? 5);
  const endpoint = await endpointProcess(latency, count);
  try {
    const policy = parsePolicy({ controls: { 's3-default-encryption': { algorithm: 'AES256' } }, sweep: { concurrency } });
    const sweepRound = () =>
      measure(async () => {
        const clients = createAwsClients({ region: 'us-east-1', endpoint: endpoint.url, credentials: CREDENTIALS });
        let judged = 0;
        for await (const item of sweep(policy, clients, { detectors: DETECTORS, sweepId: 'bench', concurrency })) {
          if (item.kind !== 'judged') throw new Error(`sweep item ${item.kind}: ${JSON.stringify(item)}`);
          judged++;
        }
        return judged;
      });
    const floorRound = () =>
      measure(async () => {
        // the SDK's cheapest setup for these calls: its middleware cache too, as the sweep's clients have
        const s3 = new S3Client({
          region: 'us-east-1',
          endpoint: endpoint.url,
          forcePathStyle: true,
          credentials: CREDENTIALS,
          cacheMiddleware: true,
        });
        const names: string[] = [];
        for await (const page of paginateListBuckets({ client: s3 }, { MaxBuckets: 1000 }))
          for (const b of page.Buckets ?? []) names.push(b.Name!);
        let next = 0;
        const worker = async () => {
          while (next < names.length) {
            const Bucket = names[next++]!;
            await Promise.all([s3.send(new GetBucketEncryptionCommand({ Bucket })), s3.send(new GetBucketTaggingCommand({ Bucket }))]);
          }
        };
        await Promise.all(Array.from({ length: concurrency }, worker));
        return names.length;
      });
    // warm-up: the SDK's modules and the connections, for both
    await sweepRound();
    await floorRound();
    // alternating rounds: a noisy neighbour on a shared machine lands on both sides alike
    const runs = await alternately(rounds, sweepRound, floorRound);
    process.stdout.write(
      `${JSON.stringify({ count, latency, concurrency, rampart: runs.subject, floor: runs.floor, maxRssKb: process.resourceUsage().maxRSS })}\n`,
    );
  } finally {
    endpoint.stop();
  }
}

void main();
