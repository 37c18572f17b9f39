import type { RecordingGroup } from '@aws-sdk/client-config-service';
import { parseEvent } from '../../core/events';
import type { Finding } from '../../core/finding';
import { DETECTORS } from '../../controls';
import { parsePolicy } from '../../controls/policy';
import {
  configRecorder,
  configRecording,
  evaluateRecording,
  recorderRef,
  recordingPolicySchema,
  type RecordingPolicy,
  type RecordingState,
} from '../../detectors/config-recording';
import { judgeEvent, type Judgement } from '../../detectors/judge';
import { EventRouter } from '../../detectors/router';
import { configRecordingRemediator, groupToWrite, planRecording } from '../../remediators/config-recording';
import { fixture } from '../helpers';

const ARN = 'arn:aws:config:us-west-2:222222222222:configuration-recorder/*';
const policyOf = (input: Partial<RecordingPolicy> = {}): RecordingPolicy => recordingPolicySchema().parse(input) as RecordingPolicy;
const RECREATE = {
  roleArn: 'arn:aws:iam::222222222222:role/aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig',
  s3BucketName: 'config-bucket-222222222222',
};
const finding = (overrides: Partial<Finding> = {}): Finding => ({
  id: 'f1',
  control: 'config-recording',
  severity: 'high',
  resourceArn: ARN,
  resourceType: 'AWS::Config::ConfigurationRecorder',
  region: 'us-west-2',
  account: '222222222222',
  eventId: 'e1',
  observed: {},
  desired: {},
  violation: 'x',
  ...overrides,
});
const HEALTHY: RecordingState = {
  name: 'default',
  recording: true,
  roleArn: RECREATE.roleArn,
  recordingGroup: { allSupported: true, includeGlobalResourceTypes: false },
  deliveryChannel: true,
};

function judge(name: string, controls: Record<string, unknown> = { 'config-recording': {} }): Judgement[] {
  const policy = parsePolicy({ controls });
  return judgeEvent(parseEvent(fixture(name)), policy, new EventRouter(DETECTORS)).judgements.filter(
    (j) => j.control === 'config-recording',
  );
}

describe('config-recording: the recorder resource', () => {
  it("is the region's recorder: an event names it by region and account, the documented recorder ARN parses to it", () => {
    const ref = recorderRef('us-west-2', '222222222222');

    expect(ref.arn).toBe(ARN);
    expect(configRecorder.arn.parse('arn:aws:config:us-west-2:222222222222:configuration-recorder/default/eu6cs99surp9xy02')?.arn).toBe(
      ARN,
    );
    expect(configRecorder.arn.parse('arn:aws:config:us-west-2:222222222222:config-rule/config-rule-abc')).toBeUndefined();
  });
});

describe('config-recording: events', () => {
  it('finds a stopped recorder in a StopConfigurationRecorder record (AWS Config developer guide example)', () => {
    const [j] = judge('config-StopConfigurationRecorder.awsdocs-config-doc.json');

    expect(j).toMatchObject({ outcome: 'violation', finding: { resourceArn: ARN, region: 'us-west-2', account: '222222222222' } });
    expect(j!.outcome === 'violation' && j!.finding.violation).toMatch(/stopped/);
  });

  it('plans StartConfigurationRecorder with the recorder name of the record, in its region, at low risk', () => {
    const [j] = judge('config-StopConfigurationRecorder.awsdocs-config-doc.json');
    if (j?.outcome !== 'violation') throw new Error('expected a violation');
    const policy = policyOf();

    const plan = planRecording(j.finding, j.state as RecordingState, policy);

    expect(plan.change).toEqual({
      service: 'config',
      operation: 'StartConfigurationRecorder',
      region: 'us-west-2',
      account: '222222222222',
      input: { ConfigurationRecorderName: 'default' },
    });
    expect(configRecordingRemediator.risk(j.finding, policy, plan.change!)).toBe('low');
    expect(configRecordingRemediator.targetOf(plan.change!)).toBe(ARN);
  });

  it('reports a deleted recorder as a high-severity violation and does not re-create it when the policy names no role and bucket', () => {
    const [j] = judge('config-DeleteConfigurationRecorder-constructed.json');
    if (j?.outcome !== 'violation') throw new Error('expected a violation');

    expect(j.finding.severity).toBe('high');
    expect(j.finding.violation).toMatch(/no configuration recorder/);
    expect(planRecording(j.finding, j.state as RecordingState, policyOf())).toEqual({
      change: null,
      reason: expect.stringContaining('controls.config-recording.recreate'),
    });
  });

  it("re-creates a deleted recorder with the policy's role and starts it, at high risk", () => {
    const state: RecordingState = { missing: true, deliveryChannel: true };
    const policy = policyOf({ recreate: { ...RECREATE, recorderName: 'default', deliveryChannelName: 'default' } });

    const plan = planRecording(finding(), state, policy);

    expect(plan.change).toMatchObject({
      operation: 'PutConfigurationRecorder',
      input: { ConfigurationRecorder: { name: 'default', roleARN: RECREATE.roleArn } },
      followUps: [{ operation: 'StartConfigurationRecorder', input: { ConfigurationRecorderName: 'default' } }],
    });
    expect(configRecordingRemediator.risk(finding(), policy, plan.change!)).toBe('high');
  });

  it('reads a PutConfigurationRecorder without a recording group as recording all supported types (API default)', () => {
    const [j] = judge('config-PutConfigurationRecorder.awsdocs-config-doc.json');

    // the group complies; whether the recorder records and has a channel the record does not say
    expect(j).toMatchObject({ outcome: 'unknown' });
  });

  it('finds a recording group narrowed below the types the enabled controls rely on', () => {
    const [j] = judge('config-PutConfigurationRecorder.inclusion-constructed.json', {
      'config-recording': {},
      'cloudtrail-logging': {},
    });
    if (j?.outcome !== 'violation') throw new Error('expected a violation');

    expect(j.finding.violation).toBe('the recorder does not record AWS::CloudTrail::Trail');
  });

  it('restores the group with PutConfigurationRecorder, keeping the types it records, at high risk', () => {
    const [j] = judge('config-PutConfigurationRecorder.inclusion-constructed.json', {
      'config-recording': {},
      'cloudtrail-logging': {},
    });
    if (j?.outcome !== 'violation') throw new Error('expected a violation');
    const policy = parsePolicy({ controls: { 'config-recording': {}, 'cloudtrail-logging': {} } }).controls['config-recording']!;

    const plan = planRecording(j.finding, j.state as RecordingState, policy);

    expect(plan.change).toEqual({
      service: 'config',
      operation: 'PutConfigurationRecorder',
      region: 'us-east-1',
      account: '111122223333',
      input: {
        ConfigurationRecorder: {
          name: 'default',
          roleARN: 'arn:aws:iam::111122223333:role/aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig',
          recordingGroup: {
            allSupported: false,
            includeGlobalResourceTypes: false,
            resourceTypes: ['AWS::CloudTrail::Trail', 'AWS::EC2::Instance'],
            recordingStrategy: { useOnly: 'INCLUSION_BY_RESOURCE_TYPES' },
          },
        },
      },
    });
    expect(configRecordingRemediator.risk(j.finding, policy, plan.change!)).toBe('high');
  });

  it('finds a deleted delivery channel, and re-creates it only when the policy names the bucket', () => {
    const [j] = judge('config-DeleteDeliveryChannel.awsdocs-config-doc.json');
    if (j?.outcome !== 'violation') throw new Error('expected a violation');

    expect(j.finding.violation).toMatch(/no delivery channel/);
    expect(planRecording(j.finding, j.state as RecordingState, policyOf()).change).toBeNull();
    expect(planRecording(j.finding, j.state as RecordingState, policyOf({ recreate: RECREATE } as never)).change).toMatchObject({
      operation: 'PutDeliveryChannel',
      input: { DeliveryChannel: { name: 'default', s3BucketName: RECREATE.s3BucketName } },
    });
  });
});

describe('config-recording: the policy', () => {
  it('requires the Config resource types of the enabled controls, once, however often the policy is read', () => {
    const once = parsePolicy({ controls: { 'config-recording': { resourceTypes: ['AWS::IAM::Role'] }, 'cloudtrail-logging': {} } });
    const twice = parsePolicy(once);

    expect(once.controls['config-recording']!.resourceTypes).toEqual(['AWS::CloudTrail::Trail', 'AWS::IAM::Role']);
    expect(twice.controls['config-recording']).toEqual(once.controls['config-recording']);
  });

  it('refuses a resource type that is not one', () => {
    expect(() => parsePolicy({ controls: { 'config-recording': { resourceTypes: ['s3 buckets'] } } })).toThrow(/Config resource type/);
  });
});

describe('config-recording: judging the recording group', () => {
  const policy = policyOf({ resourceTypes: ['AWS::S3::Bucket'] });

  it.each<[string, 'compliant' | 'violation', RecordingGroup]>([
    ['all supported', 'compliant', { allSupported: true }],
    ['an inclusion list with the type', 'compliant', { allSupported: false, resourceTypes: ['AWS::S3::Bucket'] }],
    ['an inclusion list without it', 'violation', { allSupported: false, resourceTypes: ['AWS::EC2::Instance'] }],
    [
      'an exclusion of it',
      'violation',
      {
        allSupported: false,
        exclusionByResourceTypes: { resourceTypes: ['AWS::S3::Bucket'] },
        recordingStrategy: { useOnly: 'EXCLUSION_BY_RESOURCE_TYPES' },
      },
    ],
    [
      'an exclusion of another type',
      'compliant',
      {
        allSupported: false,
        exclusionByResourceTypes: { resourceTypes: ['AWS::EC2::Instance'] },
        recordingStrategy: { useOnly: 'EXCLUSION_BY_RESOURCE_TYPES' },
      },
    ],
  ])('%s is %s', (_label, expected, recordingGroup) => {
    expect(evaluateRecording({ ...HEALTHY, recordingGroup }, policy).status).toBe(expected);
  });

  it('holds a recorder to all supported types when the policy says so', () => {
    const strict = policyOf({ allSupported: true });

    expect(
      evaluateRecording({ ...HEALTHY, recordingGroup: { allSupported: false, resourceTypes: ['AWS::S3::Bucket'] } }, strict),
    ).toMatchObject({
      status: 'violation',
      reason: 'the recorder does not record all supported resource types',
    });
    expect(groupToWrite({ allSupported: false, resourceTypes: ['AWS::S3::Bucket'] }, strict)).toEqual({
      allSupported: true,
      includeGlobalResourceTypes: false,
      recordingStrategy: { useOnly: 'ALL_SUPPORTED_RESOURCE_TYPES' },
    });
  });

  it('takes a required type out of an exclusion list, leaving the other exclusions', () => {
    const group: RecordingGroup = {
      allSupported: false,
      exclusionByResourceTypes: { resourceTypes: ['AWS::S3::Bucket', 'AWS::EC2::Instance'] },
      recordingStrategy: { useOnly: 'EXCLUSION_BY_RESOURCE_TYPES' },
    };

    expect(groupToWrite(group, policy).exclusionByResourceTypes).toEqual({ resourceTypes: ['AWS::EC2::Instance'] });
  });

  it('restores the last known good group when it meets the policy and records all the current one does', () => {
    const current: RecordingGroup = { allSupported: false, resourceTypes: ['AWS::EC2::Instance'] };
    const good: RecordingGroup = { allSupported: false, resourceTypes: ['AWS::EC2::Instance', 'AWS::S3::Bucket', 'AWS::IAM::Role'] };
    const narrower: RecordingGroup = { allSupported: false, resourceTypes: ['AWS::S3::Bucket'] };

    expect(groupToWrite(current, policy, good)).toBe(good);
    // a restore point that would stop recording EC2 instances is not used: the group is widened instead
    expect(groupToWrite(current, policy, narrower).resourceTypes).toEqual(['AWS::EC2::Instance', 'AWS::S3::Bucket']);
  });

  it('sends the recording mode back with PutConfigurationRecorder: the call replaces the recorder', () => {
    const state: RecordingState = {
      ...HEALTHY,
      recordingGroup: { allSupported: false, resourceTypes: [] },
      recordingMode: { recordingFrequency: 'DAILY', recordingModeOverrides: [] },
    };

    const plan = planRecording(finding(), state, policy);

    expect(plan.change?.input).toMatchObject({ ConfigurationRecorder: { recordingMode: { recordingFrequency: 'DAILY' } } });
  });

  it('knows nothing from an event about another service', () => {
    expect(configRecording.resourcesFrom(parseEvent(fixture('kms-DisableKey.awsdocs-kms-2014-doc.json')))).toEqual([]);
  });
});
