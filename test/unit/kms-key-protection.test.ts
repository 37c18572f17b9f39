import { parseEvent } from '../../core/events';
import type { Finding } from '../../core/finding';
import { DETECTORS } from '../../controls';
import { parsePolicy } from '../../controls/policy';
import { judgeEvent, type Judgement } from '../../detectors/judge';
import { openStatements } from '../../detectors/kms-key-policy';
import {
  evaluateKey,
  keyPolicySchema,
  kmsKey,
  kmsKeyProtection,
  type KeyProtectionPolicy,
  type KeyProtectionState,
} from '../../detectors/kms-key-protection';
import { EventRouter } from '../../detectors/router';
import { kmsKeyProtectionRemediator, planKey } from '../../remediators/kms-key-protection';
import { fixture } from '../helpers';

const KEY = 'arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const REF = kmsKey.arn.parse(KEY)!;
const policyOf = (input: Partial<KeyProtectionPolicy> = {}): KeyProtectionPolicy => keyPolicySchema().parse(input) as KeyProtectionPolicy;
const ROOT_ONLY = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::111122223333:root' }, Action: 'kms:*', Resource: '*' }],
});
const OPEN = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Sid: 'Open', Effect: 'Allow', Principal: '*', Action: 'kms:Decrypt', Resource: '*' }],
});
const HEALTHY: KeyProtectionState = {
  keyManager: 'CUSTOMER',
  keyState: 'Enabled',
  rotationSupported: true,
  rotationEnabled: true,
  rotationPeriodInDays: 365,
  policy: ROOT_ONLY,
};
const finding = (overrides: Partial<Finding> = {}): Finding => ({
  id: 'f1',
  control: 'kms-key-protection',
  severity: 'high',
  resourceArn: KEY,
  resourceType: 'AWS::KMS::Key',
  region: 'us-west-2',
  account: '111122223333',
  eventId: 'e1',
  observed: {},
  desired: {},
  violation: 'x',
  ...overrides,
});

function judge(name: string, controls: Record<string, unknown> = { 'kms-key-protection': {} }): Judgement[] {
  return judgeEvent(parseEvent(fixture(name)), parsePolicy({ controls }), new EventRouter(DETECTORS)).judgements.filter(
    (j) => j.control === 'kms-key-protection',
  );
}

describe('kms-key-protection: events', () => {
  it("finds a key scheduled for deletion, named by the response key ARN (its region, not the record's)", () => {
    const [j] = judge('kms-ScheduleKeyDeletion.awsdocs-kms-doc.json');

    expect(j).toMatchObject({ outcome: 'violation', finding: { resourceArn: KEY, region: 'us-west-2', severity: 'high' } });
    expect(j!.outcome === 'violation' && j!.finding.violation).toBe('the key is scheduled for deletion');
  });

  it('plans CancelKeyDeletion, then EnableKey (a cancelled key comes back disabled), at low risk', () => {
    const [j] = judge('kms-ScheduleKeyDeletion.awsdocs-kms-doc.json');
    if (j?.outcome !== 'violation') throw new Error('expected a violation');
    const policy = policyOf();

    const plan = planKey(j.finding, j.state as KeyProtectionState, policy);

    expect(plan.change).toEqual({
      service: 'kms',
      operation: 'CancelKeyDeletion',
      region: 'us-west-2',
      input: { KeyId: KEY },
      followUps: [{ service: 'kms', operation: 'EnableKey', region: 'us-west-2', input: { KeyId: KEY } }],
    });
    expect(kmsKeyProtectionRemediator.risk(j.finding, policy, plan.change!)).toBe('low');
  });

  it('only cancels the deletion of a key Rampart last saw disabled', () => {
    const plan = planKey(finding(), { keyState: 'PendingDeletion' }, policyOf(), { ...HEALTHY, keyState: 'Disabled' });

    expect(plan.change).toEqual({ service: 'kms', operation: 'CancelKeyDeletion', region: 'us-west-2', input: { KeyId: KEY } });
  });

  it('finds a disabled key in a 2014 DisableKey record, named by its resources ARN', () => {
    const [j] = judge('kms-DisableKey.awsdocs-kms-2014-doc.json');

    expect(j).toMatchObject({ outcome: 'violation', finding: { resourceArn: KEY, violation: 'the key is disabled' } });
  });

  it('enables a disabled key only when Rampart last saw it enabled, at high risk', () => {
    const policy = policyOf();
    const disabled: KeyProtectionState = { ...HEALTHY, keyState: 'Disabled' };

    expect(planKey(finding(), disabled, policy)).toEqual({ change: null, reason: expect.stringContaining('never saw it enabled') });
    const plan = planKey(finding(), disabled, policy, HEALTHY);
    expect(plan.change).toEqual({ service: 'kms', operation: 'EnableKey', region: 'us-west-2', input: { KeyId: KEY } });
    expect(kmsKeyProtectionRemediator.risk(finding(), policy, plan.change!)).toBe('high');
  });

  it("turns rotation back on after DisableKeyRotation, with the policy's period, at low risk", () => {
    const [j] = judge('kms-DisableKeyRotation.awsdocs-kms-doc.json', { 'kms-key-protection': { rotationPeriodInDays: 180 } });
    if (j?.outcome !== 'violation') throw new Error('expected a violation');
    const policy = policyOf({ rotationPeriodInDays: 180 });

    const plan = planKey(j.finding, j.state as KeyProtectionState, policy);

    expect(j.finding.violation).toBe('automatic key rotation is off');
    expect(plan.change).toEqual({
      service: 'kms',
      operation: 'EnableKeyRotation',
      region: 'us-west-2',
      input: { KeyId: KEY, RotationPeriodInDays: 180 },
    });
    expect(kmsKeyProtectionRemediator.risk(j.finding, policy, plan.change!)).toBe('low');
  });

  it("shortens a rotation period longer than the policy's, and leaves a shorter one alone", () => {
    const policy = policyOf({ rotationPeriodInDays: 180 });

    expect(evaluateKey({ ...HEALTHY, rotationPeriodInDays: 365 }, policy, REF)).toMatchObject({
      status: 'violation',
      reason: 'the key rotates every 365 days, policy requires at most 180',
    });
    expect(planKey(finding(), { ...HEALTHY, rotationPeriodInDays: 365 }, policy).change?.input).toEqual({
      KeyId: KEY,
      RotationPeriodInDays: 180,
    });
    expect(evaluateKey({ ...HEALTHY, rotationPeriodInDays: 90 }, policy, REF).status).toBe('compliant');
  });

  it('reads a PutKeyPolicy that keeps the key to its account as no violation (AWS KMS developer guide example)', () => {
    const [j] = judge('kms-PutKeyPolicy.awsdocs-kms-doc.json');

    // the policy is fine; the record does not say whether the key is enabled or rotates
    expect(j).toMatchObject({ outcome: 'unknown' });
  });

  it('finds a key policy opened to everyone, and restores the last known good policy at high risk', () => {
    const [j] = judge('kms-PutKeyPolicy.public-adapted.json');
    if (j?.outcome !== 'violation') throw new Error('expected a violation');
    const policy = policyOf();

    expect(j.finding.violation).toBe('the key policy allows Principal "*" without a condition (Allow everyone to decrypt)');
    expect(planKey(j.finding, j.state as KeyProtectionState, policy)).toEqual({
      change: null,
      reason: expect.stringContaining('fix it by hand'),
    });
    const plan = planKey(j.finding, j.state as KeyProtectionState, policy, HEALTHY);
    expect(plan.change).toEqual({
      service: 'kms',
      operation: 'PutKeyPolicy',
      region: 'us-west-2',
      input: { KeyId: KEY, PolicyName: 'default', Policy: ROOT_ONLY },
    });
    expect(kmsKeyProtectionRemediator.risk(j.finding, policy, plan.change!)).toBe('high');
  });

  it('finds rotation off in a Config item of AWS::KMS::Key (supplementary KeyRotationStatus)', () => {
    const [j] = judge('config-ConfigurationItemChangeNotification.kms-rotation-off-constructed.json');

    expect(j).toMatchObject({ outcome: 'violation', finding: { resourceArn: KEY, violation: 'automatic key rotation is off' } });
  });
});

describe('kms-key-protection: judging a key', () => {
  it('leaves AWS managed keys alone', () => {
    expect(evaluateKey({ keyManager: 'AWS', keyState: 'PendingDeletion' }, policyOf(), REF).status).toBe('compliant');
  });

  it('judges only the keys the policy names, by ARN or key id; an alias is for KMS to settle', () => {
    expect(evaluateKey({ keyState: 'Disabled' }, policyOf({ keys: [KEY] }), REF).status).toBe('violation');
    expect(evaluateKey({ keyState: 'Disabled' }, policyOf({ keys: ['1234abcd-12ab-34cd-56ef-1234567890ab'] }), REF).status).toBe(
      'violation',
    );
    expect(evaluateKey({ keyState: 'Disabled' }, policyOf({ keys: ['arn:aws:kms:us-west-2:111122223333:key/other'] }), REF).status).toBe(
      'compliant',
    );
    expect(evaluateKey({ ...HEALTHY }, policyOf({ keys: ['alias/payments'] }), REF)).toMatchObject({ status: 'unknown' });
    expect(evaluateKey({ ...HEALTHY, keyState: 'Disabled', namedByAlias: false }, policyOf({ keys: ['alias/payments'] }), REF).status).toBe(
      'compliant',
    );
  });

  it('does not ask a key that cannot rotate automatically to rotate', () => {
    const { rotationEnabled: _on, rotationPeriodInDays: _days, ...rest } = HEALTHY;

    expect(evaluateKey({ ...rest, rotationSupported: false }, policyOf(), REF).status).toBe('compliant');
  });

  it.each<[string, unknown, string[]]>([
    ['Principal "*"', { Effect: 'Allow', Principal: '*', Action: 'kms:*', Resource: '*' }, ['#0']],
    ['Principal {"AWS": "*"}', { Sid: 'A', Effect: 'Allow', Principal: { AWS: '*' }, Action: 'kms:*', Resource: '*' }, ['A']],
    [
      'a principal list holding "*"',
      { Effect: 'Allow', Principal: { AWS: ['arn:aws:iam::111122223333:root', '*'] }, Action: 'kms:*' },
      ['#0'],
    ],
    [
      '"*" with a condition',
      { Effect: 'Allow', Principal: '*', Action: 'kms:Decrypt', Condition: { StringEquals: { 'kms:CallerAccount': '111122223333' } } },
      [],
    ],
    ['a Deny for "*"', { Effect: 'Deny', Principal: '*', Action: 'kms:*' }, []],
    ['a service principal', { Effect: 'Allow', Principal: { Service: 'cloudtrail.amazonaws.com' }, Action: 'kms:GenerateDataKey*' }, []],
  ])('a statement with %s is open: %j', (_label, statement, open) => {
    expect(openStatements(JSON.stringify({ Version: '2012-10-17', Statement: [statement] }))).toEqual(open);
  });

  it('knows nothing from an event of another service', () => {
    expect(kmsKeyProtection.resourcesFrom(parseEvent(fixture('config-StopConfigurationRecorder.awsdocs-config-doc.json')))).toEqual([]);
  });

  it('reports an open policy as the statement ids, not the policy text', () => {
    expect(evaluateKey({ ...HEALTHY, policy: OPEN }, policyOf(), REF)).toMatchObject({
      status: 'violation',
      observed: { openStatements: ['Open'] },
    });
  });
});
