import {
  ConfigServiceClient,
  DescribeConfigurationRecorderStatusCommand,
  StartConfigurationRecorderCommand,
} from '@aws-sdk/client-config-service';
import { createAwsClients, createClientFactory } from '../../core/aws';
import type { Finding } from '../../core/finding';
import { InMemoryFixLedger } from '../../core/fix-budget';
import { InMemoryLastKnownGood } from '../../core/last-known-good';
import { resourceKey } from '../../core/resource-key';
import { ALL_CONTROLS, DETECTORS } from '../../controls';
import { parsePolicy } from '../../controls/policy';
import { recorderRef } from '../../detectors/config-recording';
import { sweep, type SweepItem } from '../../detectors/sweep';
import { applyChange, remediate, type RemediationContext } from '../../remediators/remediate';
import { FakeAws } from '../fakes';

const ACCOUNT = '111122223333';
const ROLE = `arn:aws:iam::${ACCOUNT}:role/aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig`;
const WEST = recorderRef('us-west-2', ACCOUNT).arn;
const EAST = recorderRef('us-east-1', ACCOUNT).arn;
const RECREATE = { roleArn: ROLE, s3BucketName: `config-bucket-${ACCOUNT}` };

const finding = (arn: string, region: string): Finding => ({
  id: `f-${region}`,
  control: 'config-recording',
  severity: 'high',
  resourceArn: arn,
  resourceType: 'AWS::Config::ConfigurationRecorder',
  region,
  account: ACCOUNT,
  eventId: 'e1',
  observed: {},
  desired: {},
  violation: 'x',
});

/** An independent read-back: the fake's own DescribeConfigurationRecorderStatus answer. */
async function isRecording(aws: FakeAws, region: string): Promise<boolean | undefined> {
  const sent = aws.configService.commandCalls(DescribeConfigurationRecorderStatusCommand).length;
  const out = await createAwsClients({ region, credentials: { accessKeyId: 'a', secretAccessKey: 'b' } })
    .get(ConfigServiceClient)
    .send(new DescribeConfigurationRecorderStatusCommand({}));
  expect(aws.configService.commandCalls(DescribeConfigurationRecorderStatusCommand).length).toBe(sent + 1);
  return out.ConfigurationRecordersStatus?.[0]?.recording;
}

describe('config-recording against a stateful Config fake', () => {
  let aws: FakeAws;
  const contextFor = (controls: Record<string, unknown>): RemediationContext => ({
    controls: ALL_CONTROLS,
    policy: parsePolicy({ regions: ['us-east-1', 'us-west-2'], controls }),
    clients: createAwsClients({
      region: 'us-east-1',
      regions: ['us-east-1', 'us-west-2'],
      credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
    }),
    lastKnownGood: new InMemoryLastKnownGood(),
    fixes: new InMemoryFixLedger(),
    clock: () => new Date('2024-06-03T16:00:00Z'),
    account: ACCOUNT,
    verifyDelayMs: 1,
    sleep: async () => undefined,
  });
  const west = () => aws.services.configService.region('us-west-2');

  beforeEach(() => {
    aws = new FakeAws();
    Object.assign(west(), {
      recorder: { name: 'default', roleARN: ROLE, recordingGroup: { allSupported: true, includeGlobalResourceTypes: false } },
      recording: false,
      channels: [{ name: 'default', s3BucketName: RECREATE.s3BucketName }],
    });
  });
  afterEach(() => aws.restore());

  it('starts a stopped recorder, and an independent read-back says it records', async () => {
    const outcome = await remediate(finding(WEST, 'us-west-2'), contextFor({ 'config-recording': {} }));

    expect(outcome).toMatchObject({ outcome: 'remediated', change: { operation: 'StartConfigurationRecorder' } });
    expect(aws.writes).toEqual(['StartConfigurationRecorder default']);
    expect(await isRecording(aws, 'us-west-2')).toBe(true);
  });

  it('re-creates a missing delivery channel before it starts the recorder (a recorder cannot start without one)', async () => {
    west().channels = [];

    const outcome = await remediate(finding(WEST, 'us-west-2'), contextFor({ 'config-recording': { recreate: RECREATE } }));

    expect(outcome).toMatchObject({ outcome: 'remediated', change: { operation: 'PutDeliveryChannel' } });
    expect(aws.writes).toEqual(['PutDeliveryChannel default', 'StartConfigurationRecorder default']);
    expect(await isRecording(aws, 'us-west-2')).toBe(true);
  });

  it('reports a follow-up that fails after the first call went through as partly applied: not retried, and counted as a fix', async () => {
    west().channels = [];
    aws.configService
      .on(StartConfigurationRecorderCommand)
      .rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: {} }));
    const ctx = contextFor({ 'config-recording': { recreate: RECREATE } });

    const outcome = await remediate(finding(WEST, 'us-west-2'), ctx);

    expect(outcome).toMatchObject({
      outcome: 'failed',
      errorCode: 'Rampart.PartlyApplied',
      reason:
        'PutDeliveryChannel made; StartConfigurationRecorder {"ConfigurationRecorderName":"default"} failed (ThrottlingException: Rate exceeded): ' +
        'the fix is not complete until it is made',
    });
    // a retry would plan again, see the channel made and never start the recorder: a human finishes it
    expect(outcome.retryable).toBeUndefined();
    expect(aws.writes).toEqual(['PutDeliveryChannel default']);
    // a write was made: the fix budget keeps it
    expect(await ctx.fixes.fixesSince(resourceKey('config-recording', { arn: WEST, account: ACCOUNT }), new Date(0))).toBe(1);
  });

  it('leaves a missing delivery channel to a human when the policy names no bucket', async () => {
    west().channels = [];

    const outcome = await remediate(finding(WEST, 'us-west-2'), contextFor({ 'config-recording': {} }));

    expect(outcome).toMatchObject({ outcome: 'failed', reason: expect.stringContaining('no delivery channel') });
    expect(aws.writes).toEqual([]);
  });

  it("re-creates a deleted recorder with the policy's role and its last known good group, and starts it", async () => {
    const ctx = contextFor({ 'config-recording': { recreate: RECREATE } });
    const good = {
      allSupported: false,
      resourceTypes: ['AWS::EC2::Instance', 'AWS::S3::Bucket'],
      recordingStrategy: { useOnly: 'INCLUSION_BY_RESOURCE_TYPES' },
    };
    await ctx.lastKnownGood.put(resourceKey('config-recording', { arn: WEST, account: ACCOUNT }), { recordingGroup: good }, new Date());
    west().recorder = undefined;

    const outcome = await remediate(finding(WEST, 'us-west-2'), ctx);

    expect(outcome).toMatchObject({ outcome: 'remediated' });
    expect(aws.writes).toEqual(['PutConfigurationRecorder default', 'StartConfigurationRecorder default']);
    expect(west().recorder).toMatchObject({ name: 'default', roleARN: ROLE, recordingGroup: good });
    expect(await isRecording(aws, 'us-west-2')).toBe(true);
  });

  it('widens a narrowed recording group, keeping its recording mode', async () => {
    Object.assign(west(), {
      recording: true,
      recorder: {
        name: 'default',
        roleARN: ROLE,
        recordingGroup: {
          allSupported: false,
          resourceTypes: ['AWS::EC2::Instance'],
          recordingStrategy: { useOnly: 'INCLUSION_BY_RESOURCE_TYPES' },
        },
        recordingMode: { recordingFrequency: 'DAILY', recordingModeOverrides: [] },
      },
    });

    const outcome = await remediate(finding(WEST, 'us-west-2'), contextFor({ 'config-recording': {}, 'cloudtrail-logging': {} }));

    expect(outcome).toMatchObject({ outcome: 'remediated', change: { operation: 'PutConfigurationRecorder' } });
    expect(west().recorder?.recordingGroup?.resourceTypes).toEqual(['AWS::CloudTrail::Trail', 'AWS::EC2::Instance']);
    expect(west().recorder?.recordingMode?.recordingFrequency).toBe('DAILY');
  });

  it("refuses a fix whose follow-up writes to another region's recorder, sending nothing", async () => {
    const start = {
      service: 'config',
      operation: 'StartConfigurationRecorder',
      account: ACCOUNT,
      input: { ConfigurationRecorderName: 'default' },
    };
    const change = { ...start, region: 'us-west-2', followUps: [{ ...start, region: 'us-east-1' }] };

    const refused = await applyChange(finding(WEST, 'us-west-2'), change, contextFor({ 'config-recording': {} }));

    expect(refused).toMatchObject({ outcome: 'failed', reason: `refused: the change writes to ${EAST}, not to the finding's ${WEST}` });
    expect(aws.writes).toEqual([]);
  });

  it('sweeps every region: a region without a recorder is a violation, a recording one is compliant', async () => {
    Object.assign(west(), { recording: true });
    const policy = parsePolicy({ regions: ['us-east-1', 'us-west-2'], controls: { 'config-recording': {} } });
    const clients = createClientFactory({
      region: 'us-east-1',
      regions: ['us-east-1', 'us-west-2'],
      credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
    }).clientsFor({ account: ACCOUNT });

    const items: SweepItem[] = [];
    for await (const item of sweep(policy, clients, { detectors: DETECTORS, sweepId: 's1', account: ACCOUNT })) items.push(item);

    const outcomes = items.flatMap((i) =>
      i.kind === 'judged' ? [[i.judgement.ref.arn, i.judgement.outcome]] : [[i.kind, 'message' in i ? i.message : '']],
    );
    expect(outcomes).toEqual([
      [EAST, 'violation'],
      [WEST, 'compliant'],
    ]);
  });
});
