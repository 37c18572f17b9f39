import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { InMemoryFindingsStore } from '../../core/stores';
import { GetStageCommand } from '@aws-sdk/client-api-gateway';
import { mockClient } from 'aws-sdk-client-mock';
import { MalformedEventError } from '../../core/errors';
import { makeDetectorHandler } from '../../detectors/handler';
import type { GuardDeps } from '../../remediators/handlers/deps';
import { FakeAws, inMemoryDeps, uniqueExecutionNames } from '../fakes';
import { ARTIFACTS_KEY, RAMPART_GUARD_ACL, fixture, policy } from '../helpers';

const POLICY = policy({
  controls: {
    's3-default-encryption': { algorithm: 'aws:kms', kmsKeyId: ARTIFACTS_KEY },
    'apigateway-waf': { defaultWebAclArn: RAMPART_GUARD_ACL },
    'apigateway-throttling': { rateLimit: 1000, burstLimit: 500 },
  },
});
const BETA = 'arn:aws:apigateway:us-east-1::/restapis/k2l3m4n5o6/stages/beta';

describe('the detector Lambda', () => {
  const sfn = mockClient(SFNClient);
  let aws: FakeAws;
  let deps: GuardDeps;

  beforeEach(() => {
    aws = new FakeAws();
    sfn.reset();
    uniqueExecutionNames(sfn);
    deps = inMemoryDeps(POLICY, () => new Date('2024-05-14T10:03:00Z'));
  });
  afterEach(() => aws.restore());
  afterAll(() => sfn.restore());

  it('judges the live state, opens the finding and starts one workflow named after it', async () => {
    aws.buckets.set('rampart-demo-logs', { rule: { ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } } });
    const handler = makeDetectorHandler(() => deps);

    const summary = await handler(fixture('s3-DeleteBucketEncryption-constructed.json') as never);

    expect(summary.started).toHaveLength(1);
    const [call] = sfn.commandCalls(StartExecutionCommand);
    expect(call!.args[0].input).toMatchObject({ stateMachineArn: 'arn:aws:states:us-east-1:111122223333:stateMachine:rampart', name: `${summary.started[0]}-1` });
    expect(JSON.parse(String(call!.args[0].input.input))).toMatchObject({ mode: 'enforce', generation: 1, finding: { control: 's3-default-encryption', resourceArn: 'arn:aws:s3:::rampart-demo-logs' } });
  });

  it('starts one workflow for a burst of 100 identical events', async () => {
    aws.buckets.set('rampart-demo-logs', { rule: { ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } } });
    const handler = makeDetectorHandler(() => deps);
    const event = fixture('s3-DeleteBucketEncryption-constructed.json');

    const summaries = await Promise.all(Array.from({ length: 100 }, () => handler(structuredClone(event) as never)));

    expect(summaries.flatMap((s) => s.started)).toHaveLength(1);
    expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 1);
    const [record] = [...(deps.findings as InMemoryFindingsStore).records.values()];
    expect(record?.seenCount).toBe(99);
  });

  it('opens nothing when the live state complies, whatever the event said, and remembers it as good', async () => {
    aws.buckets.set('rampart-demo-logs', { rule: { ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: ARTIFACTS_KEY } } });
    const handler = makeDetectorHandler(() => deps);

    const summary = await handler(fixture('s3-DeleteBucketEncryption-constructed.json') as never);

    expect(summary).toEqual({ findings: [], started: [], compliant: 1 });
    expect(await deps.lastKnownGood.get('s3-default-encryption', 'arn:aws:s3:::rampart-demo-logs')).toEqual({ algorithm: 'aws:kms', kmsKeyId: ARTIFACTS_KEY, bucketKeyEnabled: false });
  });

  it('throws a malformed event (so Lambda retries, then dead-letters it) without starting anything', async () => {
    const handler = makeDetectorHandler(() => deps);
    const bad = { ...fixture('s3-DeleteBucketEncryption-constructed.json'), detail: { eventName: 'DeleteBucketEncryption' } };

    await expect(handler(bad as never)).rejects.toBeInstanceOf(MalformedEventError);
    expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
  });

  it('judges every resource it can and throws for the one it could not read', async () => {
    aws.stages.set(BETA, { methodSettings: {} });
    aws.apiGateway.on(GetStageCommand).rejects(Object.assign(new Error('not authorized'), { name: 'AccessDeniedException' }));
    const handler = makeDetectorHandler(() => deps);

    await expect(handler(fixture('config-ConfigurationItemChangeNotification.stage-no-acl-constructed.json') as never)).rejects.toThrow(
      `could not judge 1 resource(s): apigateway-throttling ${BETA}: not authorized`,
    );
    // the WAF verdict, read without trouble, was not lost
    expect(JSON.parse(String(sfn.commandCalls(StartExecutionCommand)[0]!.args[0].input.input)).finding.control).toBe('apigateway-waf');
  });

  it('runs only the controls it is given (one function per control)', async () => {
    aws.stages.set(BETA, { methodSettings: {} });
    const { apigatewayWaf } = await import('../../detectors');
    const handler = makeDetectorHandler(() => deps, [apigatewayWaf]);

    const summary = await handler(fixture('apigateway-CreateStage.rest-constructed.json') as never);

    expect(summary.started).toHaveLength(1);
    expect(JSON.parse(String(sfn.commandCalls(StartExecutionCommand)[0]!.args[0].input.input)).finding.control).toBe('apigateway-waf');
  });
});
