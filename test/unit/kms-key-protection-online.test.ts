import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeKeyCommand, EnableKeyCommand, GetKeyRotationStatusCommand, KMSClient } from '@aws-sdk/client-kms';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { createAwsClients, createClientFactory } from '../../core/aws';
import type { Finding } from '../../core/finding';
import { InMemoryFixLedger } from '../../core/fix-budget';
import { InMemoryLastKnownGood } from '../../core/last-known-good';
import { ALL_CONTROLS, DETECTORS } from '../../controls';
import { parsePolicy } from '../../controls/policy';
import { sweep, type SweepItem } from '../../detectors/sweep';
import { remediate, type RemediationContext } from '../../remediators/remediate';
import { FakeAws } from '../fakes';
import { defaultKeyPolicy, type FakeKey } from '../fakes/kms';
import { jsonLines, runCli } from '../helpers';

const ACCOUNT = '111122223333';
const PENDING = `arn:aws:kms:us-west-2:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
const UNROTATED = `arn:aws:kms:us-east-1:${ACCOUNT}:key/0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d`;
const MANAGED = `arn:aws:kms:us-east-1:${ACCOUNT}:key/9f8e7d6c-5b4a-4392-8170-6e5d4c3b2a19`;
const healthy = (): FakeKey => ({ keyManager: 'CUSTOMER', keyState: 'Enabled', rotationEnabled: true, rotationPeriodInDays: 365 });

const finding = (arn: string): Finding => ({
  id: `f-${arn}`,
  control: 'kms-key-protection',
  severity: 'high',
  resourceArn: arn,
  resourceType: 'AWS::KMS::Key',
  region: arn.split(':')[3],
  account: ACCOUNT,
  eventId: 'e1',
  observed: {},
  desired: {},
  violation: 'x',
});

/** An independent read-back: the fake's own DescribeKey answer. */
async function keyStateOf(aws: FakeAws, arn: string): Promise<string | undefined> {
  const sent = aws.kms.commandCalls(DescribeKeyCommand).length;
  const out = await createAwsClients({ region: arn.split(':')[3], credentials: { accessKeyId: 'a', secretAccessKey: 'b' } })
    .get(KMSClient)
    .send(new DescribeKeyCommand({ KeyId: arn }));
  expect(aws.kms.commandCalls(DescribeKeyCommand).length).toBe(sent + 1);
  return out.KeyMetadata?.KeyState;
}

describe('kms-key-protection against a stateful KMS fake', () => {
  let aws: FakeAws;
  const regions = ['us-east-1', 'us-west-2'];
  const contextFor = (controls: Record<string, unknown>): RemediationContext => ({
    controls: ALL_CONTROLS,
    policy: parsePolicy({ regions, controls }),
    clients: createAwsClients({ region: 'us-east-1', regions, credentials: { accessKeyId: 'a', secretAccessKey: 'b' } }),
    lastKnownGood: new InMemoryLastKnownGood(),
    fixes: new InMemoryFixLedger(),
    clock: () => new Date('2024-06-03T16:00:00Z'),
    account: ACCOUNT,
    verifyDelayMs: 1,
    sleep: async () => undefined,
  });

  beforeEach(() => {
    aws = new FakeAws();
    aws.keys.set(PENDING, { ...healthy(), keyState: 'PendingDeletion' });
    aws.keys.set(UNROTATED, { ...healthy(), rotationEnabled: false });
    aws.keys.set(MANAGED, { keyManager: 'AWS', keyState: 'Enabled' });
  });
  afterEach(() => aws.restore());

  it('cancels a deletion and then enables the key, and an independent read-back says it is enabled', async () => {
    const outcome = await remediate(finding(PENDING), contextFor({ 'kms-key-protection': {} }));

    expect(outcome).toMatchObject({
      outcome: 'remediated',
      change: { operation: 'CancelKeyDeletion', followUps: [{ operation: 'EnableKey' }] },
    });
    expect(aws.writes).toEqual([`CancelKeyDeletion ${PENDING}`, `EnableKey ${PENDING}`]);
    expect(await keyStateOf(aws, PENDING)).toBe('Enabled');
  });

  it('needs that order: KMS refuses to enable a key pending deletion, and a cancelled key is disabled', async () => {
    const kms = createAwsClients({ region: 'us-west-2', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } }).get(KMSClient);

    await expect(kms.send(new EnableKeyCommand({ KeyId: PENDING }))).rejects.toMatchObject({ name: 'KMSInvalidStateException' });
    aws.keys.get(PENDING)!.keyState = 'PendingDeletion';
    const { CancelKeyDeletionCommand } = await import('@aws-sdk/client-kms');
    await kms.send(new CancelKeyDeletionCommand({ KeyId: PENDING }));
    expect(await keyStateOf(aws, PENDING)).toBe('Disabled');
  });

  it("turns rotation on with the policy's period, and the key reads back rotating at that period", async () => {
    const outcome = await remediate(finding(UNROTATED), contextFor({ 'kms-key-protection': { rotationPeriodInDays: 180 } }));

    expect(outcome).toMatchObject({
      outcome: 'remediated',
      change: { operation: 'EnableKeyRotation', input: { RotationPeriodInDays: 180 } },
    });
    const status = await createAwsClients({ region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } })
      .get(KMSClient)
      .send(new GetKeyRotationStatusCommand({ KeyId: UNROTATED }));
    expect(status).toMatchObject({ KeyRotationEnabled: true, RotationPeriodInDays: 180 });
  });

  it('sweeps the keys of every region: customer keys judged, AWS managed keys left alone', async () => {
    const clients = createClientFactory({
      region: 'us-east-1',
      regions,
      credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
    }).clientsFor({
      account: ACCOUNT,
    });
    const items: SweepItem[] = [];
    for await (const item of sweep(parsePolicy({ regions, controls: { 'kms-key-protection': {} } }), clients, {
      detectors: DETECTORS,
      sweepId: 's1',
      account: ACCOUNT,
    }))
      items.push(item);

    const outcomes = Object.fromEntries(items.flatMap((i) => (i.kind === 'judged' ? [[i.judgement.ref.arn, i.judgement.outcome]] : [])));
    expect(outcomes).toEqual({ [UNROTATED]: 'violation', [MANAGED]: 'compliant', [PENDING]: 'violation' });
    expect(items.filter((i) => i.kind !== 'judged')).toEqual([]);
  });

  it("judges keys the policy names by alias, settled with KMS in the key's region", async () => {
    aws.aliases.set('alias/payments', UNROTATED);
    const clients = createClientFactory({
      region: 'us-east-1',
      regions,
      credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
    }).clientsFor({
      account: ACCOUNT,
    });
    const items: SweepItem[] = [];
    for await (const item of sweep(parsePolicy({ regions, controls: { 'kms-key-protection': { keys: ['alias/payments'] } } }), clients, {
      detectors: DETECTORS,
      sweepId: 's1',
      account: ACCOUNT,
    }))
      items.push(item);

    const outcomes = Object.fromEntries(items.flatMap((i) => (i.kind === 'judged' ? [[i.judgement.ref.arn, i.judgement.outcome]] : [])));
    expect(outcomes).toEqual({ [UNROTATED]: 'violation', [MANAGED]: 'compliant', [PENDING]: 'compliant' });
  });

  it('rampart scan finds each drift, scan --fix cancels the deletion, re-enables and rotates, and leaves the policy restore to a human', async () => {
    const OPEN = `arn:aws:kms:us-east-1:${ACCOUNT}:key/5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9`;
    const open = JSON.parse(defaultKeyPolicy(ACCOUNT)) as { Statement: unknown[] };
    open.Statement.push({ Sid: 'Everyone', Effect: 'Allow', Principal: { AWS: '*' }, Action: 'kms:Decrypt', Resource: '*' });
    aws.keys.set(OPEN, { ...healthy(), rotationPeriodInDays: 180, policy: JSON.stringify(open) });
    const sts = mockClient(STSClient);
    sts.on(GetCallerIdentityCommand).resolves({ Account: ACCOUNT, Arn: `arn:aws:iam::${ACCOUNT}:user/ops` });
    const file = join(mkdtempSync(join(tmpdir(), 'rampart-kms-')), 'policy.yaml');
    writeFileSync(
      file,
      ['regions: [us-east-1, us-west-2]', 'controls:', '  kms-key-protection: { rotationPeriodInDays: 180 }', ''].join('\n'),
    );
    try {
      const scan = await runCli(['scan', '--json', '--config', file, '--region', 'us-east-1']);
      const findings = jsonLines(scan.stdout).filter((l) => l.type === 'finding');
      expect(Object.fromEntries(findings.map((f) => [f.resourceArn, f.risk]))).toEqual({
        [PENDING]: 'low',
        [UNROTATED]: 'low',
        [OPEN]: 'high',
      });
      expect(aws.writes).toEqual([]);

      const fixed = await runCli(['scan', '--fix', '--config', file, '--region', 'us-east-1']);
      expect(fixed.stderr).toContain(`High-risk fixes need approval (not applied):\n  kms-key-protection  ${OPEN}`);
      expect(aws.writes.sort()).toEqual([`CancelKeyDeletion ${PENDING}`, `EnableKey ${PENDING}`, `EnableKeyRotation ${UNROTATED}`].sort());
      // independent read-backs: the key is enabled again, the other rotates at the policy's period
      expect(await keyStateOf(aws, PENDING)).toBe('Enabled');
      const status = await createAwsClients({ region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } })
        .get(KMSClient)
        .send(new GetKeyRotationStatusCommand({ KeyId: UNROTATED }));
      expect(status).toMatchObject({ KeyRotationEnabled: true, RotationPeriodInDays: 180 });
    } finally {
      sts.restore();
    }
  });
});
