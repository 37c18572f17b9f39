/**
 * Child process of the sweep benchmark: sweeps `count` fake buckets, each AWS call taking
 * `latency` ms, and prints resources/s and peak memory (maxRSS is this sweep's alone).
 */
import { S3Client } from '@aws-sdk/client-s3';
import { createAwsClients } from '../core/aws';
import { parsePolicy } from '../controls/policy';
import { sweep } from '../detectors/sweep';
import { FakeAws } from '../test/fakes';
import { DETECTORS } from '../controls';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

async function main(): Promise<void> {
  const count = Number(process.argv[2] ?? 1000);
  const latency = Number(process.argv[3] ?? 20);
  const key = 'arn:aws:kms:us-east-1:111122223333:key/0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';
  const policy = parsePolicy({ controls: { 's3-default-encryption': { algorithm: 'aws:kms', kmsKeyId: key } } });
  const aws = new FakeAws();
  aws.pageSize = 1000; // ListBuckets pages of 1,000, as S3 allows
  for (let i = 0; i < count; i++) {
    aws.buckets.set(`bucket-${String(i).padStart(6, '0')}`, {
      region: 'us-east-1',
      rule:
        i % 10 === 0
          ? { ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }
          : { ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: key } },
    });
  }
  // every call waits `latency` ms, as a call to S3 would
  const stubbed = S3Client.prototype.send;
  S3Client.prototype.send = async function (this: S3Client, ...args: Parameters<S3Client['send']>) {
    await new Promise((resolve) => setTimeout(resolve, latency));
    return (stubbed as (...a: unknown[]) => unknown).apply(this, args);
  } as S3Client['send'];
  const clients = createAwsClients({ region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
  let judged = 0;
  let violations = 0;
  const start = process.hrtime.bigint();
  for await (const item of sweep(policy, clients, { detectors: DETECTORS, sweepId: 'bench', concurrency: policy.sweep.concurrency })) {
    judged++;
    if (item.kind === 'judged' && item.judgement.outcome === 'violation') violations++;
    if (judged % 500 === 0) aws.s3.resetHistory(); // the mock's call log is the bench's, not the sweep's
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  process.stdout.write(
    JSON.stringify({ count, judged, violations, seconds, perSecond: judged / seconds, maxRssKb: process.resourceUsage().maxRSS }),
  );
}

void main();
