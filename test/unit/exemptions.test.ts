import { policySliceFor } from '../../infra/policy-slices';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SFNClient } from '@aws-sdk/client-sfn';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { bucketRef } from '../../detectors/s3-resources';
import { PolicyError } from '../../core/errors';
import { parseEvent } from '../../core/events';
import { exemptionTextOf } from '../../core/channels/email';
import { exemptionSlackBlocksOf } from '../../core/channels/slack';
import { isExemptionNotice } from '../../core/exemption-notice';
import { exemptionStatus, expiryOf } from '../../core/exemptions';
import { parsePolicy } from '../../controls/policy';
import { DETECTORS, detectorFor } from '../../controls';
import { makeDetectorHandler } from '../../handlers/detector';
import { judgeEvent, judgeObservation } from '../../detectors/judge';
import { EventRouter } from '../../detectors/router';
import { sweep } from '../../detectors/sweep';
import type { GuardDeps } from '../../handlers/deps';
import { FakeAws, inMemoryDeps, uniqueExecutionNames } from '../fakes';
import { ARTIFACTS_KEY, RAMPART_GUARD_ACL, fixture, fixtureEvent, jsonLines, policy, runCli } from '../helpers';

const TAGS = { 'rampart:exempt': 'true' };
const EXEMPTIONS = { tags: TAGS, arns: ['arn:aws:s3:::legacy-*'], requireExpiry: false, expiryTagKey: 'rampart:exempt-until' };
const LOGS = 'arn:aws:s3:::rampart-demo-logs';
const PROD = 'arn:aws:apigateway:us-east-1::/restapis/a1b2c3d4e5/stages/prod';
const POLICY = policy({
  controls: {
    's3-default-encryption': { algorithm: 'aws:kms', kmsKeyId: ARTIFACTS_KEY },
    'apigateway-waf': { defaultWebAclArn: RAMPART_GUARD_ACL },
    'apigateway-throttling': { rateLimit: 1000, burstLimit: 500 },
  },
  exemptions: { tags: TAGS },
});
const router = new EventRouter(DETECTORS);

describe('exemption expiry', () => {
  const jan31 = new Date('2027-01-31T23:59:59Z');
  const feb1 = new Date('2027-02-01T00:00:00Z');

  it('reads a date as "through that day, UTC" and a timestamp as that instant; anything else is no date', () => {
    expect(expiryOf('2027-01-31')?.toISOString()).toBe('2027-02-01T00:00:00.000Z');
    expect(expiryOf('2027-01-31T12:00:00Z')?.toISOString()).toBe('2027-01-31T12:00:00.000Z');
    expect(expiryOf('2027-02-30')).toBeUndefined();
    expect(expiryOf('next tuesday')).toBeUndefined();
    expect(expiryOf('2027-01-31T12:00')).toBeUndefined();
  });

  it('exempts until the expiry date has passed, then no longer', () => {
    const tags = { ...TAGS, 'rampart:exempt-until': '2027-01-31' };

    expect(exemptionStatus(LOGS, tags, EXEMPTIONS, jan31)).toEqual({ exempt: true, reason: 'tagged rampart:exempt=true until 2027-01-31' });
    expect(exemptionStatus(LOGS, tags, EXEMPTIONS, feb1)).toEqual({
      exempt: false,
      reason: 'tagged rampart:exempt=true but the exemption expired (rampart:exempt-until=2027-01-31)',
    });
  });

  it('with requireExpiry, a tag exemption without a valid expiry exempts nothing', () => {
    const strict = { ...EXEMPTIONS, requireExpiry: true };

    expect(exemptionStatus(LOGS, TAGS, strict, jan31)).toEqual({
      exempt: false,
      reason: 'tagged rampart:exempt=true but without rampart:exempt-until: the policy requires exemptions to carry an expiry date',
    });
    expect(exemptionStatus(LOGS, { ...TAGS, 'rampart:exempt-until': 'soon' }, strict, jan31).exempt).toBe(false);
    expect(exemptionStatus(LOGS, { ...TAGS, 'rampart:exempt-until': '2027-01-31' }, strict, jan31).exempt).toBe(true);
    // without requireExpiry, no expiry means no end
    expect(exemptionStatus(LOGS, TAGS, EXEMPTIONS, feb1).exempt).toBe(true);
  });

  it('uses the configured expiry tag key, and never lets ARN exemptions (from the reviewed policy) expire', () => {
    const custom = { ...EXEMPTIONS, expiryTagKey: 'exempt-until' };

    expect(exemptionStatus(LOGS, { ...TAGS, 'exempt-until': '2027-01-31' }, custom, feb1).exempt).toBe(false);
    expect(exemptionStatus('arn:aws:s3:::legacy-logs', {}, { ...EXEMPTIONS, requireExpiry: true }, feb1).exempt).toBe(true);
  });

  it('does not hold a dated exemption when the time of judgement is unknown', () => {
    expect(exemptionStatus(LOGS, { ...TAGS, 'rampart:exempt-until': '2027-01-31' }, EXEMPTIONS, undefined).exempt).toBe(false);
  });

  it('judges an expired exemption as no exemption at the injected time', () => {
    const detector = detectorFor('s3-default-encryption');
    const ref = bucketRef('rampart-demo-logs', 'us-east-1', '111122223333');
    const observation = {
      status: 'known' as const,
      state: { algorithm: 'AES256', bucketKeyEnabled: false },
      tags: { ...TAGS, 'rampart:exempt-until': '2027-01-31' },
    };
    const provenance = { eventId: 'sweep-1' };

    expect(judgeObservation(detector, ref, observation, POLICY, provenance, jan31).outcome).toBe('exempt');
    expect(judgeObservation(detector, ref, observation, POLICY, provenance, feb1).outcome).toBe('violation');
  });

  it('the sweep judges exemptions at its clock', async () => {
    const aws = new FakeAws();
    try {
      aws.buckets.set('rampart-demo-logs', {
        rule: { ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } },
        tags: { ...TAGS, 'rampart:exempt-until': '2027-01-31' },
      });
      const deps = inMemoryDeps(POLICY, () => feb1);
      const outcomes = async (at: Date) => {
        const out = [];
        for await (const item of sweep(POLICY, deps.clients, {
          detectors: DETECTORS,
          sweepId: 's',
          controls: ['s3-default-encryption'],
          clock: () => at,
        }))
          if (item.kind === 'judged') out.push(item.judgement.outcome);
        return out;
      };

      expect(await outcomes(jan31)).toEqual(['exempt']);
      expect(await outcomes(feb1)).toEqual(['violation']);
    } finally {
      aws.restore();
    }
  });
});

describe('exemption policy keys', () => {
  const issues = (exemptions: unknown) => {
    try {
      parsePolicy({ exemptions });
    } catch (error) {
      if (error instanceof PolicyError) return error.issues;
      throw error;
    }
    return [];
  };

  it('accepts requireExpiry and expiryTagKey', () => {
    expect(parsePolicy({ exemptions: { tags: TAGS, requireExpiry: true, expiryTagKey: 'exempt-until' } }).exemptions).toEqual({
      tags: TAGS,
      arns: [],
      requireExpiry: true,
      expiryTagKey: 'exempt-until',
    });
  });

  it('refuses bad values, naming the field', () => {
    expect(issues({ requireExpiry: 'yes' }).map((i) => i.path)).toEqual(['exemptions.requireExpiry']);
    expect(issues({ expiryTagKey: 'aws:until' })).toEqual([
      { path: 'exemptions.expiryTagKey', message: 'tag keys starting with aws: are reserved by AWS' },
    ]);
    expect(issues({ tags: { 'rampart:exempt-until': 'x' } })).toEqual([
      { path: 'exemptions.expiryTagKey', message: 'rampart:exempt-until is an exemption tag too: the expiry tag must be another key' },
    ]);
  });
});

describe('exemption changes from tag events (offline)', () => {
  it('reports who exempted a bucket, with the expiry, and does not judge encryption from a tag change', () => {
    const verdict = judgeEvent(fixtureEvent('s3-PutBucketTagging.exempt-constructed.json'), POLICY, router);

    expect(verdict.judgements).toEqual([]);
    expect(verdict.matched).toBe(true);
    expect(verdict.exemptions).toEqual([
      {
        change: 'added',
        resourceArn: LOGS,
        tagKey: 'rampart:exempt',
        tagValue: 'true',
        expiry: '2027-01-31',
        effect: 'exempt from every control (tagged rampart:exempt=true until 2027-01-31)',
        actor: expect.objectContaining({ arn: 'arn:aws:iam::111122223333:user/rampart-operator' }),
        eventId: '6c2e8f4a-1b3d-4e5f-8a7b-9c0d1e2f3a4b',
        eventName: 'PutBucketTagging',
        eventTime: '2026-11-20T14:05:00Z',
      },
    ]);
  });

  it('says an exemption without the required expiry does not exempt', () => {
    const strict = { ...POLICY, exemptions: { ...POLICY.exemptions, requireExpiry: true } };
    const raw = fixture('s3-PutBucketTagging.exempt-constructed.json');
    const tagSet = (raw.detail as { requestParameters: { Tagging: { TagSet: { Tag: Array<{ Key: string }> } } } }).requestParameters.Tagging
      .TagSet;
    tagSet.Tag = tagSet.Tag.filter((t) => t.Key !== 'rampart:exempt-until');

    const [change] = judgeEvent(parseEvent(raw), strict, router).exemptions;

    expect(change).toMatchObject({
      change: 'added',
      effect:
        'not exempt: tagged rampart:exempt=true but without rampart:exempt-until: the policy requires exemptions to carry an expiry date',
    });
  });

  it('reports DeleteBucketTagging as the removal of any exemption', () => {
    expect(judgeEvent(fixtureEvent('s3-DeleteBucketTagging-constructed.json'), POLICY, router).exemptions).toEqual([
      expect.objectContaining({ change: 'removed', resourceArn: LOGS, tagKey: 'rampart:exempt', eventName: 'DeleteBucketTagging' }),
    ]);
  });

  it('reports a stage exempted once, though two controls guard it', () => {
    const verdict = judgeEvent(fixtureEvent('apigateway-TagResource.stage-exempt-constructed.json'), POLICY, router);

    expect(verdict.exemptions).toEqual([
      expect.objectContaining({
        change: 'added',
        resourceArn: PROD,
        tagKey: 'rampart:exempt',
        tagValue: 'true',
        actor: expect.objectContaining({ sessionIssuerArn: 'arn:aws:iam::111122223333:role/PlatformDeployer' }),
      }),
    ]);
  });

  it('reports UntagResource of the exemption and of its expiry', () => {
    const changes = judgeEvent(fixtureEvent('apigateway-UntagResource.stage-constructed.json'), POLICY, router).exemptions;

    expect(changes.map((c) => [c.change, c.tagKey])).toEqual([
      ['removed', 'rampart:exempt'],
      ['expiry-removed', 'rampart:exempt-until'],
    ]);
  });

  it('leaves tag changes that touch no exemption tag alone (not matched)', () => {
    expect(judgeEvent(fixtureEvent('s3-PutBucketTagging-constructed.json'), POLICY, router)).toEqual({
      matched: false,
      judgements: [],
      exemptions: [],
    });
    expect(
      judgeEvent(fixtureEvent('s3-PutBucketTagging.exempt-constructed.json'), policy({ controls: POLICY.controls }), router).matched,
    ).toBe(false);
  });

  it('ignores tag changes of resources no enabled control guards', () => {
    const wafOnly = { ...POLICY, controls: { 'apigateway-waf': POLICY.controls['apigateway-waf'] } };

    expect(judgeEvent(fixtureEvent('s3-PutBucketTagging.exempt-constructed.json'), wafOnly, router).matched).toBe(false);
  });
});

describe('exemption changes in the detector Lambda', () => {
  const sfn = mockClient(SFNClient);
  const sns = mockClient(SNSClient);
  let aws: FakeAws;
  let deps: GuardDeps;

  beforeEach(() => {
    aws = new FakeAws();
    sfn.reset();
    sns.reset();
    uniqueExecutionNames(sfn);
    deps = inMemoryDeps(POLICY, () => new Date('2026-11-22T10:00:05Z'));
    deps = {
      ...deps,
      sns: new SNSClient({ region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } }),
      config: { ...deps.config, topicArn: 'arn:aws:sns:us-east-1:111122223333:rampart' },
    };
    aws.stages.set(PROD, {
      methodSettings: { '*/*': { throttlingRateLimit: 100, throttlingBurstLimit: 50 } },
      webAclArn: RAMPART_GUARD_ACL,
      tags: TAGS,
    });
    aws.webAcls.add(RAMPART_GUARD_ACL);
  });
  afterEach(() => aws.restore());
  afterAll(() => {
    sfn.restore();
    sns.restore();
  });

  it('publishes the change on the topic once, from the first control that guards the stage', async () => {
    const event = fixture('apigateway-TagResource.stage-exempt-constructed.json');

    for (const control of ['apigateway-waf', 'apigateway-throttling'] as const) {
      await makeDetectorHandler(
        () => deps,
        DETECTORS.filter((d) => d.id === control),
      )(structuredClone(event) as never);
    }

    expect(sns).toHaveReceivedCommandTimes(PublishCommand, 1);
    const input = sns.commandCalls(PublishCommand)[0]!.args[0].input;
    expect(input).toMatchObject({
      TopicArn: 'arn:aws:sns:us-east-1:111122223333:rampart',
      Subject: `[Rampart] Exemption added: ${PROD}`,
      MessageAttributes: { outcome: { DataType: 'String', StringValue: 'exemption-changed' } },
    });
    const message = JSON.parse(String(input.Message)) as { email: string; lambda: string };
    expect(message.email).toContain('By:       arn:aws:sts::111122223333:assumed-role/PlatformDeployer/ci-pipeline');
    expect(JSON.parse(message.lambda)).toMatchObject({
      kind: 'exemption-changed',
      exemption: { change: 'added', resourceArn: PROD, tagKey: 'rampart:exempt' },
    });
  });

  it('publishes it once too when each detector holds only its own slice of the policy, as deployed', async () => {
    const event = fixture('apigateway-TagResource.stage-exempt-constructed.json');
    const controlsOn = Object.keys(POLICY.controls);

    for (const control of ['apigateway-waf', 'apigateway-throttling'] as const) {
      const own = {
        ...deps,
        policy: policySliceFor(POLICY, { detector: control }) as typeof POLICY,
        config: { ...deps.config, control, controlsOn },
      };
      await makeDetectorHandler(() => own)(structuredClone(event) as never);
    }

    expect(sns).toHaveReceivedCommandTimes(PublishCommand, 1);
    expect(String(sns.commandCalls(PublishCommand)[0]!.args[0].input.Subject)).toBe(`[Rampart] Exemption added: ${PROD}`);
  });

  it('judges the live state again after a tag change: a removed exemption opens the finding at once', async () => {
    aws.stages.get(PROD)!.tags = {};
    aws.stages.get(PROD)!.methodSettings = { '*/*': { throttlingRateLimit: 5000, throttlingBurstLimit: 50 } };

    const summary = await makeDetectorHandler(
      () => deps,
      DETECTORS.filter((d) => d.id === 'apigateway-throttling'),
    )(fixture('apigateway-UntagResource.stage-constructed.json') as never);

    expect(summary.findings).toHaveLength(1);
    expect(sns).toHaveReceivedCommandTimes(PublishCommand, 0); // waf reports it, and waf is enabled
  });

  it('fails the event (Lambda retries it, then the dead-letter queue keeps it) when the notice cannot be published', async () => {
    sns.on(PublishCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'Throttling' }));

    await expect(
      makeDetectorHandler(
        () => deps,
        DETECTORS.filter((d) => d.id === 'apigateway-waf'),
      )(fixture('apigateway-TagResource.stage-exempt-constructed.json') as never),
    ).rejects.toThrow(`exemption change of ${PROD}: Rate exceeded`);
  });
});

describe('rampart replay prints exemption changes', () => {
  it('as `exemption` lines with --json, beside the existing line types, and as a section in the table', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rampart-exempt-'));
    const config = join(dir, 'rampart.config.yaml');
    writeFileSync(config, 'controls:\n  s3-default-encryption: { algorithm: AES256 }\nexemptions:\n  tags: { "rampart:exempt": "true" }\n');
    const events = join(dir, 'events.ndjson');
    writeFileSync(
      events,
      ['s3-PutBucketTagging.exempt-constructed.json', 's3-DeleteBucketEncryption-constructed.json']
        .map((f) => JSON.stringify(fixture(f)))
        .join('\n'),
    );

    const json = jsonLines((await runCli(['replay', '--json', '--config', config, events])).stdout);
    const text = (await runCli(['replay', '--config', config, events])).stdout;

    expect(json.map((l) => l.type)).toEqual(['exemption', 'summary']);
    expect(json[0]).toMatchObject({
      type: 'exemption',
      change: 'added',
      resourceArn: LOGS,
      tagKey: 'rampart:exempt',
      expiry: '2027-01-31',
      eventName: 'PutBucketTagging',
    });
    expect(json[1]).toMatchObject({ events: 2, matched: 2, compliant: 1, errors: 0 });
    // the table wraps to the terminal width: compare the words
    expect(text.replace(/\s+/g, ' ')).toContain(
      `added ${LOGS} rampart:exempt=true by arn:aws:iam::111122223333:user/rampart-operator: exempt from every control`,
    );
  });
});

describe('the exemption notice', () => {
  const change = {
    change: 'added' as const,
    resourceArn: 'arn:aws:s3:::evil\nBcc: attacker@example.com',
    tagKey: 'rampart:exempt',
    tagValue: 'true',
    effect: 'exempt from every control',
    actor: { arn: 'arn:aws:iam::111122223333:user/<!channel>' },
    eventId: 'e1',
    eventName: 'PutBucketTagging',
  };

  it('keeps event text on its line in email and escaped in Slack', () => {
    const text = exemptionTextOf(change);

    expect(text.split('\n')).toContain('Resource: arn:aws:s3:::evil\\u000aBcc: attacker@example.com');
    expect(JSON.stringify(exemptionSlackBlocksOf(change))).toContain('user/&lt;!channel&gt;');
    expect(isExemptionNotice({ kind: 'exemption-changed', exemption: change })).toBe(true);
    expect(isExemptionNotice({ kind: 'detected', finding: {} })).toBe(false);
  });
});
