import { DescribeExecutionCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { InMemoryFindingsStore } from '../../core/stores';
import { resourceKey } from '../../core/resource-key';
import { GetStageCommand } from '@aws-sdk/client-api-gateway';
import { mockClient } from 'aws-sdk-client-mock';
import { makeDetectorHandler } from '../../handlers/detector';
import type { GuardDeps } from '../../handlers/deps';
import { OPENER_GRACE_MS } from '../../remediators/finding-workflow';
import { FakeAws, FakeStepFunctions, inMemoryDeps } from '../fakes';
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
  let executions: FakeStepFunctions;
  let now: Date;
  let deadLetters: Array<{ body: string; attributes: Record<string, string> }>;
  const OPENED_AT = new Date('2024-05-14T10:03:00Z');

  beforeEach(() => {
    aws = new FakeAws();
    sfn.reset();
    executions = new FakeStepFunctions(sfn);
    now = OPENED_AT;
    deps = inMemoryDeps(POLICY, () => now);
    deadLetters = [];
    deps.deadLetters = { send: async (m) => void deadLetters.push(m) };
  });
  afterEach(() => aws.restore());
  afterAll(() => sfn.restore());

  it('judges the live state, opens the finding and starts one workflow named after it', async () => {
    aws.buckets.set('rampart-demo-logs', { rule: { ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } } });
    const handler = makeDetectorHandler(() => deps);

    const summary = await handler(fixture('s3-DeleteBucketEncryption-constructed.json') as never);

    expect(summary.started).toHaveLength(1);
    const [call] = sfn.commandCalls(StartExecutionCommand);
    // the generation is the opening time: it never goes back, even after TTL removed the record
    expect(call!.args[0].input).toMatchObject({
      stateMachineArn: 'arn:aws:states:us-east-1:111122223333:stateMachine:rampart',
      name: `${summary.started[0]}-${OPENED_AT.getTime()}`,
    });
    expect(JSON.parse(String(call!.args[0].input.input))).toMatchObject({
      mode: 'enforce',
      generation: OPENED_AT.getTime(),
      finding: { control: 's3-default-encryption', resourceArn: 'arn:aws:s3:::rampart-demo-logs' },
    });
  });

  it('starts one workflow for a burst of 100 identical events', async () => {
    aws.buckets.set('rampart-demo-logs', { rule: { ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } } });
    const handler = makeDetectorHandler(() => deps);
    const event = fixture('s3-DeleteBucketEncryption-constructed.json');

    const summaries = await Promise.all(Array.from({ length: 100 }, () => handler(structuredClone(event) as never)));

    expect(summaries.flatMap((s) => s.started)).toHaveLength(1);
    // duplicates racing the opener may start the same name and input again: still one execution
    expect(executions.names).toHaveLength(1);
    expect(summaries.flatMap((s) => s.recovered)).toEqual([]);
    const [record] = [...(deps.findings as InMemoryFindingsStore).records.values()];
    expect(record?.seenCount).toBe(99);
  });

  it('opens nothing when the live state complies, whatever the event said, and remembers it as good', async () => {
    aws.buckets.set('rampart-demo-logs', {
      rule: { ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: ARTIFACTS_KEY } },
    });
    const handler = makeDetectorHandler(() => deps);

    const summary = await handler(fixture('s3-DeleteBucketEncryption-constructed.json') as never);

    expect(summary).toEqual({ findings: [], started: [], recovered: [], compliant: 1 });
    expect(
      await deps.lastKnownGood.get(
        resourceKey('s3-default-encryption', { arn: 'arn:aws:s3:::rampart-demo-logs', account: '111122223333' }),
      ),
    ).toEqual({ algorithm: 'aws:kms', kmsKeyId: ARTIFACTS_KEY, bucketKeyEnabled: false });
  });

  it('sends a malformed event straight to the dead-letter queue with its reason, counted once, without a Lambda retry', async () => {
    const handler = makeDetectorHandler(() => deps);
    const bad = { ...fixture('s3-DeleteBucketEncryption-constructed.json'), detail: { eventName: 'DeleteBucketEncryption' } };

    const { metrics } = await import('../../handlers/telemetry');
    const counted = jest.spyOn(metrics, 'addMetric');

    const summary = await handler(bad as never);

    expect(counted.mock.calls.filter(([name]) => name === 'MalformedEvents')).toEqual([['MalformedEvents', 'Count', 1]]);
    counted.mockRestore();
    expect(summary.malformed).toMatch(/^CloudTrail event: detail.eventSource/);
    expect(deadLetters).toHaveLength(1);
    expect(JSON.parse(deadLetters[0]!.body)).toEqual(bad);
    expect(deadLetters[0]!.attributes).toEqual({
      ErrorMessage: summary.malformed,
      RampartReason: 'malformed-event',
      RampartField: 'detail.eventSource',
    });
    expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
  });

  it('logs a 5,000-level nested malformed event as a bounded summary and dead-letters it whole', async () => {
    let deep: unknown = 'x';
    for (let i = 0; i < 5000; i++) deep = { a: deep };
    const bad = { ...fixture('s3-DeleteBucketEncryption-constructed.json'), detail: deep };
    const errors: unknown[] = [];
    const { logger } = await import('../../handlers/telemetry');
    const spy = jest.spyOn(logger, 'error').mockImplementation((...args: unknown[]) => void errors.push(args));
    try {
      const summary = await makeDetectorHandler(() => deps)(bad as never);
      expect(summary.malformed).toContain('detail.eventSource');
    } finally {
      spy.mockRestore();
    }
    const [, logged] = (errors as Array<[string, { summary: Record<string, unknown> }]>)[0]!;
    expect(logged.summary).toMatchObject({ depth: 5001, type: 'object', source: 'aws.s3', detailType: 'AWS API Call via CloudTrail' });
    expect(JSON.stringify(logged).length).toBeLessThan(2000);
    expect(deadLetters[0]!.body.length).toBe(logged.summary.chars);
    expect(deadLetters[0]!.body.startsWith('{"version":"0"')).toBe(true);
  });

  it('throws a malformed event when the dead-letter queue cannot be written (Lambda retries keep it)', async () => {
    deps.deadLetters = {
      send: async () => Promise.reject(Object.assign(new Error('Service Unavailable'), { name: 'ServiceUnavailable' })),
    };
    const bad = { ...fixture('s3-DeleteBucketEncryption-constructed.json'), detail: { eventName: 'DeleteBucketEncryption' } };

    const { metrics } = await import('../../handlers/telemetry');
    const counted = jest.spyOn(metrics, 'addMetric');

    await expect(makeDetectorHandler(() => deps)(bad as never)).rejects.toThrow('Service Unavailable');
    // counted by the attempt that dead-letters it, not by each failed one
    expect(counted.mock.calls.filter(([name]) => name === 'MalformedEvents')).toEqual([]);
    counted.mockRestore();
  });

  it('recovers an open finding whose StartExecution failed: the retried event starts it', async () => {
    aws.buckets.set('rampart-demo-logs', { rule: { ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } } });
    const handler = makeDetectorHandler(() => deps);
    const event = fixture('s3-DeleteBucketEncryption-constructed.json');
    sfn.on(StartExecutionCommand).rejectsOnce(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));

    await expect(handler(structuredClone(event) as never)).rejects.toThrow('Rate exceeded');
    now = new Date(OPENED_AT.getTime() + 60_000 + OPENER_GRACE_MS); // Lambda's retries come minutes later
    executions = new FakeStepFunctions(sfn);
    const summary = await handler(structuredClone(event) as never);

    expect(summary.recovered).toHaveLength(1);
    expect(executions.names).toEqual([`${summary.recovered[0]}-${OPENED_AT.getTime()}`]);
  });

  it.each(['FAILED', 'TIMED_OUT', 'ABORTED'] as const)(
    'starts the next generation when the workflow of the open finding ended %s',
    async (status) => {
      aws.buckets.set('rampart-demo-logs', { rule: { ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } } });
      const handler = makeDetectorHandler(() => deps);
      const event = fixture('s3-DeleteBucketEncryption-constructed.json');
      const [id] = (await handler(structuredClone(event) as never)).started;
      executions.executions.get(`${id}-${OPENED_AT.getTime()}`)!.status = status;
      now = new Date(OPENED_AT.getTime() + 3_600_000);

      expect((await handler(structuredClone(event) as never)).recovered).toEqual([id]);
      expect(executions.names).toEqual([`${id}-${OPENED_AT.getTime()}`, `${id}-${now.getTime()}`]);
      expect((await deps.findings.get(id!))?.history.at(-1)).toMatchObject({ event: 'restarted', detail: expect.stringContaining(status) });
      // the next duplicate finds it running
      expect((await handler(structuredClone(event) as never)).recovered).toEqual([]);
      expect(sfn).toHaveReceivedCommandTimes(DescribeExecutionCommand, 2);
    },
  );

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
    const { detectorFor } = await import('../../controls');
    const handler = makeDetectorHandler(() => deps, [detectorFor('apigateway-waf')]);

    const summary = await handler(fixture('apigateway-CreateStage.rest-constructed.json') as never);

    expect(summary.started).toHaveLength(1);
    expect(JSON.parse(String(sfn.commandCalls(StartExecutionCommand)[0]!.args[0].input.input)).finding.control).toBe('apigateway-waf');
  });
});

describe('the detector deps', () => {
  it("starts and describes executions with the SDK's own retries (adaptive backoff, 5 attempts)", async () => {
    const { depsFromEnv } = await import('../../handlers/deps');
    const deps = depsFromEnv({
      RAMPART_POLICY: JSON.stringify(POLICY),
      RAMPART_TABLE: 'tbl',
      AWS_REGION: 'us-east-1',
      RAMPART_DEAD_LETTER_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/111122223333/dlq',
    });

    expect(await deps.sfn.config.maxAttempts()).toBe(5);
    expect(deps.sfn.config.retryMode).toBe('adaptive');
    expect(deps.deadLetters).toBeDefined();
    expect(depsFromEnv({ RAMPART_POLICY: JSON.stringify(POLICY), RAMPART_TABLE: 'tbl' }).deadLetters).toBeUndefined();
  });
});
