/**
 * Child process of the organization sweep benchmark: what one child execution of the
 * Distributed Map does, for real. The hub's sweep handler sweeps member accounts one after the
 * other (each entered through its read role with STS), every AWS call taking `latency` ms; then
 * the hub's detector judges events from member accounts. Prints, per account, the wall and CPU
 * time of its page; per event, the detector's; and peak memory.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { parsePolicy } from '../controls/policy';
import { makeDetectorHandler } from '../handlers/detector';
import { makeSweepHandler } from '../handlers/sweep';
import { FakeAws, FakeStepFunctions, FakeSts } from '../test/fakes';
import { inMemoryGuardDeps } from '../test/guard-deps';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
process.env.POWERTOOLS_DEV = 'false';
process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
process.env.POWERTOOLS_METRICS_DISABLED = 'true';

const HUB = '111122223333';
const REGIONS = ['us-east-1', 'eu-west-1'];
const AES256 = { ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' as const } };

/** Every call of these clients waits `latency` ms first, as a call to AWS would. */
function withLatency(latency: number, ...clients: Array<{ prototype: { send: unknown } }>): void {
  for (const Client of clients) {
    const send = Client.prototype.send as (...a: unknown[]) => Promise<unknown>;
    Client.prototype.send = async function (this: unknown, ...args: unknown[]) {
      await new Promise((resolve) => setTimeout(resolve, latency));
      return send.apply(this, args);
    };
  }
}

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

async function main(): Promise<void> {
  const accounts = Number(process.argv[2] ?? 10);
  const perRegion = Number(process.argv[3] ?? 50);
  const latency = Number(process.argv[4] ?? 20);
  const events = Number(process.argv[5] ?? 200);
  const policy = parsePolicy({
    organization: { id: 'o-a1b2c3d4e5', regions: REGIONS },
    controls: { 's3-default-encryption': { algorithm: 'AES256' } },
  });
  const aws = new FakeAws();
  aws.pageSize = 1000;
  const sts = new FakeSts(aws.world);
  const sfn = mockClient(SFNClient);
  new FakeStepFunctions(sfn);
  const members = Array.from({ length: accounts }, (_, i) => String(400000000000 + i));
  for (const account of members)
    for (const region of REGIONS)
      for (let i = 0; i < perRegion; i++)
        aws.services.s3.bucketsOf(account).set(`${region}-bucket-${i}`, { region, ...(i % 10 === 0 ? {} : { rule: AES256 }) });
  withLatency(latency, S3Client, STSClient);
  const deps = inMemoryGuardDeps(policy, {}, { account: HUB });
  const page = makeSweepHandler(() => deps);

  const perAccount: Array<{ wallMs: number; cpuMs: number; resources: number; findings: number; calls: number }> = [];
  for (const account of members) {
    const start = performance.now();
    const cpu = cpuMs();
    const out = await page({ control: 's3-default-encryption', account, regions: REGIONS, sweepId: 'bench' });
    perAccount.push({
      wallMs: performance.now() - start,
      cpuMs: cpuMs() - cpu,
      resources: out.resources,
      findings: out.findings,
      // the AWS calls of the page: the listing, the reads of each bucket, entering the account
      calls: aws.s3.calls().length + sts.mock.calls().length,
    });
    aws.s3.resetHistory();
    sts.mock.resetHistory();
    sfn.resetHistory();
  }

  // the hub's detector: one event at a time, as one Lambda instance takes them
  const detector = makeDetectorHandler(() => deps);
  const perEvent: Array<{ wallMs: number; cpuMs: number }> = [];
  for (let i = 0; i < events; i++) {
    const account = members[i % members.length]!;
    const bucket = `us-east-1-bucket-${(i * 7) % perRegion}`;
    const start = performance.now();
    const cpu = cpuMs();
    await detector(eventFrom(account, bucket));
    perEvent.push({ wallMs: performance.now() - start, cpuMs: cpuMs() - cpu });
    if (i % 50 === 0) aws.s3.resetHistory();
  }
  // on a line of its own: the handlers' metrics (EMF) are on stdout too
  process.stdout.write(`\nRESULT ${JSON.stringify({ perAccount, perEvent, maxRssKb: process.resourceUsage().maxRSS })}\n`);
}

/** The S3 DeleteBucketEncryption event of the test fixture, as delivered from a member account. */
function eventFrom(account: string, bucket: string): never {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const event = structuredClone(require('../test/fixtures/s3-DeleteBucketEncryption-constructed.json')) as {
    account: string;
    detail: { recipientAccountId: string; requestParameters: { bucketName: string }; resources: unknown[] };
  };
  event.account = account;
  event.detail.recipientAccountId = account;
  event.detail.requestParameters.bucketName = bucket;
  event.detail.resources = [{ accountId: account, type: 'AWS::S3::Bucket', ARN: `arn:aws:s3:::${bucket}` }];
  return event as never;
}

void main();
