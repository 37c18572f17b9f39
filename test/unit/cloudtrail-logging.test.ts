import type { AdvancedEventSelector, EventSelector } from '@aws-sdk/client-cloudtrail';
import { parseEvent } from '../../core/events';
import type { Finding } from '../../core/finding';
import { DETECTORS } from '../../controls';
import { parsePolicy } from '../../controls/policy';
import {
  cloudTrailTrail,
  cloudtrailLogging,
  evaluateTrail,
  trailPolicySchema,
  trailRef,
  type TrailPolicy,
  type TrailState,
} from '../../detectors/cloudtrail-logging';
import { judgeEvent, type Judgement } from '../../detectors/judge';
import { EventRouter } from '../../detectors/router';
import { cloudtrailLoggingRemediator, planTrail, selectorsToWrite } from '../../remediators/cloudtrail-logging';
import { fixture } from '../helpers';

const ARN = 'arn:aws:cloudtrail:us-west-2:111122223333:trail/audit';
const policyOf = (input: Partial<TrailPolicy> = {}): TrailPolicy => trailPolicySchema().parse(input) as TrailPolicy;
const ALL: EventSelector[] = [
  { ReadWriteType: 'All', IncludeManagementEvents: true, DataResources: [], ExcludeManagementEventSources: [] },
];
const HEALTHY: TrailState = {
  isLogging: true,
  isMultiRegionTrail: true,
  logFileValidationEnabled: true,
  includeGlobalServiceEvents: true,
  kmsKeyId: null,
  isOrganizationTrail: false,
  selectors: { form: 'basic', eventSelectors: ALL },
};
const finding = (overrides: Partial<Finding> = {}): Finding => ({
  id: 'f1',
  control: 'cloudtrail-logging',
  severity: 'high',
  resourceArn: ARN,
  resourceType: 'AWS::CloudTrail::Trail',
  region: 'us-west-2',
  account: '111122223333',
  observed: {},
  desired: {},
  violation: 'x',
  eventId: 'e1',
  ...overrides,
});
const advanced = (...fields: Array<{ Field: string; Equals?: string[]; NotEquals?: string[] }>): AdvancedEventSelector => ({
  Name: 'Management events selector',
  FieldSelectors: fields,
});

describe('cloudtrail-logging policy', () => {
  it('defaults to a multi-region, validated trail recording all management events, low risk', () => {
    expect(policyOf()).toEqual({
      trails: ['*'],
      multiRegion: true,
      logFileValidation: true,
      includeGlobalServiceEvents: true,
      managementEvents: 'All',
      risk: 'low',
    });
  });

  it('refuses unknown keys and other management event values', () => {
    expect(trailPolicySchema().safeParse({ managementEvents: 'ReadOnly' }).success).toBe(false);
    expect(trailPolicySchema().safeParse({ multiregion: true }).success).toBe(false);
    expect(trailPolicySchema().safeParse({ trails: [] }).success).toBe(false);
  });
});

describe('evaluateTrail', () => {
  it('finds a stopped trail', () => {
    expect(evaluateTrail({ ...HEALTHY, isLogging: false }, policyOf())).toMatchObject({
      status: 'violation',
      reason: 'trail is not logging',
    });
  });

  it('lists every setting that fails the policy', () => {
    const evaluation = evaluateTrail(
      { ...HEALTHY, isMultiRegionTrail: false, logFileValidationEnabled: false, includeGlobalServiceEvents: false },
      policyOf(),
    );
    expect(evaluation).toMatchObject({
      status: 'violation',
      reason: 'trail is not multi-region; log file validation is disabled; global service events are not included',
    });
  });

  it('holds a trail stricter than the policy compliant', () => {
    const lax = policyOf({
      multiRegion: false,
      logFileValidation: false,
      includeGlobalServiceEvents: false,
      managementEvents: 'WriteOnly',
    });
    expect(evaluateTrail({ ...HEALTHY, kmsKeyId: 'arn:aws:kms:us-west-2:111122223333:key/k1' }, lax).status).toBe('compliant');
    // and a lax trail fails only what the policy asks
    expect(evaluateTrail({ ...HEALTHY, isMultiRegionTrail: false, logFileValidationEnabled: false }, lax).status).toBe('compliant');
  });

  it('requires read and write management events for All, and write events (All or WriteOnly) for WriteOnly', () => {
    const basic = (ReadWriteType: 'All' | 'ReadOnly' | 'WriteOnly'): TrailState => ({
      ...HEALTHY,
      selectors: { form: 'basic', eventSelectors: [{ ...ALL[0], ReadWriteType }] },
    });
    expect(['All', 'WriteOnly', 'ReadOnly'].map((rw) => evaluateTrail(basic(rw as 'All'), policyOf()).status)).toEqual([
      'compliant',
      'violation',
      'violation',
    ]);
    expect(
      ['All', 'WriteOnly', 'ReadOnly'].map((rw) => evaluateTrail(basic(rw as 'All'), policyOf({ managementEvents: 'WriteOnly' })).status),
    ).toEqual(['compliant', 'compliant', 'violation']);
    // a read-only and a write-only selector together record both
    const both: TrailState = {
      ...HEALTHY,
      selectors: {
        form: 'basic',
        eventSelectors: [
          { ...ALL[0], ReadWriteType: 'ReadOnly' },
          { ...ALL[0], ReadWriteType: 'WriteOnly' },
        ],
      },
    };
    expect(evaluateTrail(both, policyOf()).status).toBe('compliant');
  });

  it('reads advanced selectors: eventCategory Management, readOnly "false" = writes only, an excluded event source is not all events', () => {
    const adv = (...selectors: AdvancedEventSelector[]): TrailState => ({
      ...HEALTHY,
      selectors: { form: 'advanced', advancedEventSelectors: selectors },
    });
    const management = { Field: 'eventCategory', Equals: ['Management'] };
    expect(evaluateTrail(adv(advanced(management)), policyOf()).status).toBe('compliant');
    expect(evaluateTrail(adv(advanced(management, { Field: 'readOnly', Equals: ['false'] })), policyOf()).status).toBe('violation');
    expect(
      evaluateTrail(adv(advanced(management, { Field: 'readOnly', Equals: ['false'] })), policyOf({ managementEvents: 'WriteOnly' }))
        .status,
    ).toBe('compliant');
    expect(
      evaluateTrail(
        adv(advanced(management, { Field: 'eventSource', NotEquals: ['kms.amazonaws.com'] })),
        policyOf({ managementEvents: 'WriteOnly' }),
      ).status,
    ).toBe('violation');
    expect(
      evaluateTrail(
        adv(advanced({ Field: 'eventCategory', Equals: ['Data'] }, { Field: 'resources.type', Equals: ['AWS::S3::Object'] })),
        policyOf(),
      ).status,
    ).toBe('violation');
  });

  it('judges the KMS key only when the policy names one, by key ARN or key id (an alias is refused)', () => {
    const key = 'arn:aws:kms:us-west-2:111122223333:key/0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';
    expect(evaluateTrail(HEALTHY, policyOf({ kmsKeyId: key }))).toMatchObject({
      status: 'violation',
      reason: `log files are not encrypted with KMS, policy requires ${key}`,
    });
    expect(evaluateTrail({ ...HEALTHY, kmsKeyId: key }, policyOf({ kmsKeyId: '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d' })).status).toBe(
      'compliant',
    );
    expect(evaluateTrail({ ...HEALTHY, kmsKeyId: key.replace('0a1b2c3d', '9f9f9f9f') }, policyOf({ kmsKeyId: key }))).toMatchObject({
      status: 'violation',
    });
    expect(evaluateTrail({ ...HEALTHY, kmsKeyId: 'alias/trail' }, policyOf({ kmsKeyId: key })).status).toBe('unknown');
    expect(trailPolicySchema().safeParse({ kmsKeyId: 'alias/trail' }).error?.issues[0]?.message).toContain('not an alias');
  });

  it('calls a deleted trail a violation, and a trail the policy does not name compliant', () => {
    expect(evaluateTrail({ deleted: true }, policyOf())).toMatchObject({ status: 'violation', observed: { deleted: true } });
    const ref = cloudTrailTrail.arn.parse(ARN)!;
    expect(evaluateTrail({ deleted: true }, policyOf({ trails: ['other'] }), ref).status).toBe('compliant');
    expect(evaluateTrail({ deleted: true }, policyOf({ trails: ['audit'] }), ref).status).toBe('violation');
    expect(evaluateTrail({ deleted: true }, policyOf({ trails: [ARN] }), ref).status).toBe('violation');
  });

  it('says unknown when a field the policy judges is not in the state, unless a known one already fails', () => {
    expect(evaluateTrail({ logFileValidationEnabled: true }, policyOf())).toMatchObject({
      status: 'unknown',
      reason: expect.stringContaining('logging status'),
    });
    expect(evaluateTrail({ logFileValidationEnabled: false }, policyOf()).status).toBe('violation');
  });
});

describe('the trail kind', () => {
  it('round-trips ARNs, keeps the owner account apart from the account it is seen from, refuses other ARNs', () => {
    expect(trailRef('audit', 'us-west-2', '111122223333')).toMatchObject({
      arn: ARN,
      region: 'us-west-2',
      trail: 'audit',
      owner: '111122223333',
      account: '111122223333',
    });
    const org = trailRef('arn:aws:cloudtrail:us-east-1:999988887777:trail/org', undefined, '111122223333')!;
    expect(org).toMatchObject({ owner: '999988887777', account: '111122223333', region: 'us-east-1' });
    expect(cloudTrailTrail.arn.parse('arn:aws:cloudtrail:us-east-1:111122223333:eventdatastore/abc')).toBeUndefined();
    expect(cloudTrailTrail.arn.parse('arn:aws-cn:cloudtrail:cn-north-1:111122223333:trail/t')?.arn).toBe(
      'arn:aws-cn:cloudtrail:cn-north-1:111122223333:trail/t',
    );
  });
});

describe('planTrail', () => {
  const policy = policyOf({ risk: 'high' });

  it('starts a stopped trail by ARN in its home region, at low risk whatever the policy says', () => {
    const plan = planTrail(finding(), { ...HEALTHY, isLogging: false, logFileValidationEnabled: false }, policy);
    expect(plan).toEqual({ change: { service: 'cloudtrail', operation: 'StartLogging', region: 'us-west-2', input: { Name: ARN } } });
    expect(cloudtrailLoggingRemediator.risk(finding(), policy, plan.change!)).toBe('low');
    expect(cloudtrailLoggingRemediator.targetOf(plan.change!)).toBe(ARN);
  });

  it('turns on only what fails with one UpdateTrail, at the policy risk', () => {
    const plan = planTrail(finding(), { ...HEALTHY, logFileValidationEnabled: false, includeGlobalServiceEvents: false }, policy);
    expect(plan.change).toEqual({
      service: 'cloudtrail',
      operation: 'UpdateTrail',
      region: 'us-west-2',
      input: { Name: ARN, EnableLogFileValidation: true, IncludeGlobalServiceEvents: true },
    });
    expect(cloudtrailLoggingRemediator.risk(finding(), policy, plan.change!)).toBe('high');
  });

  it('restores the last known good KMS key when it is the policy key (the full ARN for an alias given as key id)', () => {
    const key = 'arn:aws:kms:us-west-2:111122223333:key/0a1b2c3d';
    expect(planTrail(finding(), HEALTHY, policyOf({ kmsKeyId: '0a1b2c3d' }), { ...HEALTHY, kmsKeyId: key }).change?.input).toEqual({
      Name: ARN,
      KmsKeyId: key,
    });
    expect(
      planTrail(finding(), HEALTHY, policyOf({ kmsKeyId: '0a1b2c3d' }), {
        ...HEALTHY,
        kmsKeyId: 'arn:aws:kms:us-west-2:111122223333:key/other',
      }).change?.input,
    ).toEqual({
      Name: ARN,
      KmsKeyId: '0a1b2c3d',
    });
  });

  it('records management events again and keeps the data selectors, in the basic form only', () => {
    // the selectors of the real PutEventSelectors record: data events, read-only, no management events
    const real = fixture<{ requestParameters: { eventSelectors: unknown[] } }>('cloudtrail-PutEventSelectors.soclabs-stratus-real.json');
    const state = cloudtrailLogging.stateFrom(parseEvent(real), trailRef('t', 'ap-southeast-2', '438465128930')!);
    if (state.status !== 'known') throw new Error('expected a known state');
    const plan = planTrail(finding(), { ...HEALTHY, selectors: state.state.selectors }, policy);

    expect(plan.change?.operation).toBe('PutEventSelectors');
    expect(plan.change?.input).toEqual({
      TrailName: ARN,
      EventSelectors: [
        {
          ReadWriteType: 'ReadOnly',
          IncludeManagementEvents: false,
          DataResources: [
            { Type: 'AWS::S3::Object', Values: [] },
            { Type: 'AWS::Lambda::Function', Values: [] },
          ],
          ExcludeManagementEventSources: [],
        },
        { ReadWriteType: 'All', IncludeManagementEvents: true, DataResources: [], ExcludeManagementEventSources: [] },
      ],
    });
    expect(plan.change?.input).not.toHaveProperty('AdvancedEventSelectors');
  });

  it('keeps the advanced form and its other selectors, and the read events a WriteOnly policy does not ask for', () => {
    const data = advanced({ Field: 'eventCategory', Equals: ['Data'] }, { Field: 'resources.type', Equals: ['AWS::S3::Object'] });
    const readsExcludingKms = advanced(
      { Field: 'eventCategory', Equals: ['Management'] },
      { Field: 'eventSource', NotEquals: ['kms.amazonaws.com'] },
    );
    const written = selectorsToWrite(
      { form: 'advanced', advancedEventSelectors: [data, readsExcludingKms] },
      policyOf({ managementEvents: 'WriteOnly' }),
    );
    expect(written).toEqual({
      selectors: {
        form: 'advanced',
        advancedEventSelectors: [
          data,
          { Name: 'Management events selector', FieldSelectors: [{ Field: 'eventCategory', Equals: ['Management'] }] },
        ],
      },
    });
    const writesOnly = selectorsToWrite({ form: 'basic', eventSelectors: [] }, policyOf({ managementEvents: 'WriteOnly' }));
    expect(writesOnly).toEqual({
      selectors: {
        form: 'basic',
        eventSelectors: [
          { ReadWriteType: 'WriteOnly', IncludeManagementEvents: true, DataResources: [], ExcludeManagementEventSources: [] },
        ],
      },
    });
  });

  it('reports a deleted trail and an organization trail seen from a member account, and fixes neither', () => {
    expect(planTrail(finding(), { deleted: true }, policy)).toMatchObject({
      change: null,
      reason: expect.stringContaining('does not re-create trails'),
    });
    const member = finding({ resourceArn: 'arn:aws:cloudtrail:us-east-1:999988887777:trail/org', account: '111122223333' });
    expect(planTrail(member, { ...HEALTHY, isLogging: false, isOrganizationTrail: true }, policy)).toMatchObject({
      change: null,
      reason: expect.stringContaining('organization trail org of account 999988887777'),
    });
  });

  it('plans nothing for a compliant trail', () => {
    expect(planTrail(finding(), HEALTHY, policy).change).toBeNull();
  });
});

describe('the detector on real CloudTrail records', () => {
  const policy = parsePolicy({ controls: { 'cloudtrail-logging': {} } });
  const router = new EventRouter(DETECTORS);
  const judge = (name: string): Judgement[] => judgeEvent(parseEvent(fixture(name)), policy, router).judgements;

  it('StopLogging (trail named by ARN): a violation of the trail in its home region', () => {
    expect(judge('cloudtrail-StopLogging.panther-assumedrole-testcase.json')).toMatchObject([
      {
        outcome: 'violation',
        ref: { arn: 'arn:aws:cloudtrail:us-west-2:123456789012:trail/example-trail', region: 'us-west-2', account: '123456789012' },
        finding: {
          severity: 'high',
          violation: 'trail is not logging',
          eventName: 'StopLogging',
          actor: { sessionIssuerArn: 'arn:aws:iam::123456789012:role/tester' },
        },
      },
    ]);
  });

  it('a failed StopLogging changed nothing: it does not route', () => {
    expect(router.route(parseEvent(fixture('cloudtrail-StopLogging.panther-error-testcase.json')))).toEqual([]);
  });

  it('DeleteTrail: a high-severity violation, the trail deleted', () => {
    expect(judge('cloudtrail-DeleteTrail.elastic-beats-real.json')).toMatchObject([
      {
        outcome: 'violation',
        ref: { arn: 'arn:aws:cloudtrail:us-west-2:0123456789012:trail/test-trail' },
        finding: { severity: 'high', observed: { deleted: true } },
      },
    ]);
  });

  it('UpdateTrail: the resulting trail from the response (validation off, KMS removed)', () => {
    const [j] = judge('cloudtrail-UpdateTrail.elastic-integrations-console-real.json');
    expect(j).toMatchObject({
      outcome: 'violation',
      ref: { arn: 'arn:aws:cloudtrail:us-west-2:0123456789012:trail/TEST-trail' },
      state: { logFileValidationEnabled: false, kmsKeyId: null },
    });
    expect(j!.outcome === 'violation' && j!.finding.violation).toBe('log file validation is disabled');
  });

  it('PutEventSelectors with a bare trail name: the trail of the record account and region, no management events', () => {
    expect(judge('cloudtrail-PutEventSelectors.soclabs-stratus-real.json')).toMatchObject([
      {
        outcome: 'violation',
        ref: { arn: 'arn:aws:cloudtrail:ap-southeast-2:438465128930:trail/stratus-red-team-ctes-trail-yuffsbtkgj' },
        finding: { violation: 'trail does not record all (read and write) management events' },
      },
    ]);
  });

  it('CreateTrail: settings as required, but whether it logs is not in the record', () => {
    expect(judge('cloudtrail-CreateTrail.elastic-beats-console-real.json')).toMatchObject([
      {
        outcome: 'unknown',
        ref: { arn: 'arn:aws:cloudtrail:us-west-2:0123456789012:trail/TEST-trail' },
        reason: expect.stringContaining('logging status'),
      },
    ]);
  });

  it('a Config item of a trail: its recorded settings', () => {
    expect(judge('config-ConfigurationItemChangeNotification.trail-no-validation-constructed.json')).toMatchObject([
      {
        outcome: 'violation',
        ref: { arn: 'arn:aws:cloudtrail:us-east-1:111122223333:trail/audit', account: '111122223333' },
        finding: { violation: 'log file validation is disabled' },
      },
    ]);
  });

  it('a Config item of a deleted trail: a violation, not a resource gone', () => {
    const item = fixture<{ detail: { configurationItem: Record<string, unknown> } }>(
      'config-ConfigurationItemChangeNotification.trail-no-validation-constructed.json',
    );
    item.detail.configurationItem.configurationItemStatus = 'ResourceDeleted';
    item.detail.configurationItem.configuration = null;
    expect(judgeEvent(parseEvent(item), policy, router).judgements).toMatchObject([
      { outcome: 'violation', finding: { observed: { deleted: true } } },
    ]);
  });
});
