import { PassThrough, Readable } from 'node:stream';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetBucketEncryptionCommand } from '@aws-sdk/client-s3';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { listFindings, showFinding, timeToRemediate } from '../../cli/commands/findings';
import { awsClientsFor } from '../../cli/commands/remediate';
import { parsePolicy } from '../../controls/policy';
import type { CliIo } from '../../cli/io';
import { InMemoryFindingsStore, type FindingRecord } from '../../core/stores';
import type { Finding } from '../../core/finding';
import { FakeAws } from '../fakes';
import { ARTIFACTS_KEY, RAMPART_GUARD_ACL, jsonLines, runCli } from '../helpers';

const tmp = mkdtempSync(join(tmpdir(), 'rampart-scan-'));
const POLICY = join(tmp, 'policy.yaml');
writeFileSync(
  POLICY,
  [
    'regions: [us-east-1]',
    'controls:',
    `  s3-default-encryption: { algorithm: "aws:kms", kmsKeyId: "${ARTIFACTS_KEY}" }`,
    `  apigateway-waf: { defaultWebAclArn: "${RAMPART_GUARD_ACL}" }`,
    '  apigateway-throttling: { rateLimit: 1000, burstLimit: 500 }',
    '',
  ].join('\n'),
);
const STAGE = 'arn:aws:apigateway:us-east-1::/restapis/api1/stages/prod';

describe('rampart scan', () => {
  let aws: FakeAws;
  const sts = mockClient(STSClient);
  beforeEach(() => {
    aws = new FakeAws();
    sts.reset();
    sts.on(GetCallerIdentityCommand).resolves({ Account: '111122223333', Arn: 'arn:aws:iam::111122223333:user/ops' });
    aws.buckets.set('drifted', { region: 'us-east-1', rule: { ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } } });
    aws.buckets.set('fine', {
      region: 'us-east-1',
      rule: { ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: ARTIFACTS_KEY } },
    });
    aws.stages.set(STAGE, {
      methodSettings: { '*/*': { throttlingRateLimit: 5000, throttlingBurstLimit: 50 } },
      webAclArn: RAMPART_GUARD_ACL,
    });
    aws.webAcls.add(RAMPART_GUARD_ACL);
  });
  afterEach(() => aws.restore());
  afterAll(() => sts.restore());

  it('prints the replay --json lines, eventId naming the sweep, and keeps progress off stdout', async () => {
    const result = await runCli(['scan', '--json', '--config', POLICY, '--region', 'us-east-1']);
    const lines = jsonLines(result.stdout);
    const summary = lines.at(-1)!;

    expect(result.code).toBe(0);
    expect(lines.map((l) => l.type)).toEqual(expect.arrayContaining(['finding', 'summary']));
    expect(lines.filter((l) => l.type === 'finding').map((l) => [l.control, l.resourceArn])).toEqual(
      expect.arrayContaining([
        ['s3-default-encryption', 'arn:aws:s3:::drifted'],
        ['apigateway-throttling', STAGE],
      ]),
    );
    const finding = lines.find((l) => l.resourceArn === 'arn:aws:s3:::drifted')!;
    expect(finding).toMatchObject({
      eventId: summary.sweepId,
      eventName: 'Sweep',
      account: '111122223333',
      risk: 'low',
      change: { operation: 'PutBucketEncryption' },
    });
    // the stage is checked by two controls
    expect(summary).toMatchObject({ type: 'summary', resources: 4, events: 4, findings: 2, compliant: 2, errors: 0 });
    expect(String(summary.sweepId)).toMatch(/^sweep-\d{4}-/);
    expect(result.stderr).toContain('scanning: 4 resource checks, 2 violations, 0 unreadable');
  });

  it('fixes the low-risk violations with --fix and lists the high-risk ones for approval', async () => {
    const result = await runCli(['scan', '--fix', '--config', POLICY, '--region', 'us-east-1']);

    expect(result.stdout).toContain('4 resource checks: 2 violations, 2 compliant');
    expect(result.stderr).toContain('s3-default-encryption  arn:aws:s3:::drifted: remediated');
    expect(result.stderr).toContain(`High-risk fixes need approval (not applied):\n  apigateway-throttling  ${STAGE}: UpdateStage`);
    expect(aws.writes).toEqual(['PutBucketEncryption drifted']);
    expect(result.code).toBe(1); // one violation is left for a human
  });

  it("hands the controls clients that carry the caller's account, asked of STS once", async () => {
    const { clients, account } = await awsClientsFor(parsePolicy({ controls: {} }), { region: 'eu-west-1' });

    expect(account).toBe('111122223333');
    expect(clients).toMatchObject({ account: '111122223333', region: 'eu-west-1' });
    expect(sts.commandCalls(GetCallerIdentityCommand)).toHaveLength(1);
  });

  it('reports an unreadable resource and exits 1', async () => {
    aws.s3.on(GetBucketEncryptionCommand, { Bucket: 'fine' }).rejects(Object.assign(new Error('Access Denied'), { name: 'AccessDenied' }));

    const result = await runCli(['scan', '--json', '--control', 's3-default-encryption', '--config', POLICY, '--region', 'us-east-1']);
    const lines = jsonLines(result.stdout);

    expect(result.code).toBe(1);
    expect(lines.find((l) => l.type === 'error')).toMatchObject({
      position: 's3-default-encryption arn:aws:s3:::fine',
      message: 'Access Denied',
    });
  });
});

describe('rampart findings', () => {
  const finding = (id: string): Finding => ({
    id,
    control: 's3-default-encryption',
    severity: 'medium',
    resourceArn: `arn:aws:s3:::${id}`,
    resourceType: 'AWS::S3::Bucket',
    observed: { algorithm: 'AES256' },
    desired: { algorithm: 'aws:kms' },
    violation: 'bucket has default encryption AES256, policy requires aws:kms',
    eventId: 'e1',
  });
  const closed = (id: string, seconds: number): FindingRecord => ({
    id,
    finding: finding(id),
    status: 'closed',
    outcome: 'remediated',
    generation: 1,
    openedAt: '2024-06-03T16:00:00.000Z',
    updatedAt: 'x',
    lastSeenAt: 'x',
    closedAt: new Date(Date.parse('2024-06-03T16:00:00.000Z') + seconds * 1000).toISOString(),
    history: [{ at: '2024-06-03T16:00:00.000Z', event: 'detected' }],
  });

  function io(): { io: CliIo; out: () => string } {
    const stdout = new PassThrough();
    const chunks: Buffer[] = [];
    stdout.on('data', (c: Buffer) => chunks.push(c));
    return { io: { stdout, stderr: new PassThrough(), stdin: Readable.from([]) }, out: () => Buffer.concat(chunks).toString('utf8') };
  }

  it('computes the median and p90 time to remediate', () => {
    const records = [10, 20, 30, 40, 50, 60, 70, 80, 90, 1000].map((s, i) => closed(`f${i}`, s));

    expect(timeToRemediate(records)).toEqual({ count: 10, p50: 50, p90: 90 });
    expect(timeToRemediate([])).toEqual({ count: 0 });
  });

  it('lists open or closed findings per control with the time to remediate', async () => {
    const store = new InMemoryFindingsStore();
    await store.open(finding('open-one'), new Date('2024-06-03T17:00:00Z'));
    for (const r of [closed('c1', 30), closed('c2', 600)]) store.records.set(r.id, r);
    const all = io();
    const open = io();

    await listFindings({ status: 'all' }, all.io, store);
    await listFindings({}, open.io, store);

    expect(all.out()).toMatch(/^ID +STATUS +OUTCOME +CONTROL +ACCOUNT +RESOURCE +OPENED +CLOSED/);
    expect(all.out()).toContain('3 findings (s3-default-encryption 3); time to remediate: median 30 s, p90 10 min over 2');
    expect(open.out()).toContain('open-one');
    expect(open.out()).not.toContain('c1 ');
  });

  it('refuses an unknown --status', async () => {
    expect(await listFindings({ status: 'stale' as never }, io().io, new InMemoryFindingsStore())).toBe(2);
  });

  it('shows one finding with its history', async () => {
    const store = new InMemoryFindingsStore();
    const r = closed('c1', 30);
    r.history.push({ at: '2024-06-03T16:00:10.000Z', event: 'approved', by: 'iam:arn:aws:sts::111122223333:assumed-role/SecOps/alice' });
    store.records.set(r.id, r);
    const shown = io();

    expect(await showFinding('c1', {}, shown.io, store)).toBe(0);
    expect(shown.out()).toContain('status closed (remediated)');
    expect(shown.out()).toContain('2024-06-03T16:00:10.000Z  approved by iam:arn:aws:sts::111122223333:assumed-role/SecOps/alice');
    expect(await showFinding('nope', {}, io().io, store)).toBe(1);
  });
});
