import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { loadPolicyFile, parsePolicy } from '../../controls/policy';
import { IamAlertsStack } from '../../infra/iam-alerts-stack';
import { RampartStack } from '../../infra/stack';
import { matches } from './event-pattern';
import { TemplateResolver, type DeployEnv } from './resolve';

const ROOT = join(__dirname, '../..');
const ENV: DeployEnv = { stackName: 'Rampart', account: '111122223333', region: 'eu-west-1', partition: 'aws', urlSuffix: 'amazonaws.com' };
const WEBHOOK = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:rampart/slack-webhook';
const SIGNING = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:rampart/slack-signing-AbCdEf';

const POLICY = parsePolicy({
  notifications: {
    emails: ['secops@example.com'],
    slack: { webhookSecretArn: WEBHOOK, signingSecretArn: SIGNING, teamId: 'T012AB3C4', appId: 'A0123ABCD' },
  },
  approvals: loadPolicyFile(join(ROOT, 'examples/rampart.config.yaml')).approvals,
  controls: loadPolicyFile(join(ROOT, 'examples/rampart.config.yaml')).controls,
});

type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>;

const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
const CONTROLS_ON = Object.keys(POLICY.controls).length;
const template = Template.fromStack(new RampartStack(app, ENV.stackName, { policy: POLICY, createTrail: true })).toJSON() as {
  Resources: Resources;
};
const resolver = new TemplateResolver(template, ENV);
const ofType = (type: string) => Object.entries(template.Resources).filter(([, r]) => r.Type === type);
const tamperRules = ofType('AWS::Events::Rule')
  .filter(([, r]) => String(r.Properties.Description).includes('tamper alert'))
  .map(([id, r]) => ({ id, pattern: resolver.resolve(r.Properties.EventPattern) as Record<string, unknown> }));
const ref = (id: string) => resolver.resource(id).ref;
const attr = (id: string, name: string) => resolver.resource(id).attrs[name]!;
const only = (type: string) => {
  const [found] = ofType(type);
  return found![0];
};

/**
 * A CloudTrail record in its EventBridge envelope, constructed field by field from the CloudTrail
 * user guide's "CloudTrail record contents" (management event of an assumed-role session) and
 * the EventBridge "AWS API Call via CloudTrail" envelope; requestParameters are the API's
 * request members, first letter lower-cased, as each service's CloudTrail examples show.
 */
function apiCall(source: string, eventName: string, requestParameters: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  const service = source.slice('aws.'.length);
  const eventSource = { monitoring: 'monitoring.amazonaws.com' }[service] ?? `${service}.amazonaws.com`;
  return {
    version: '0',
    id: '6a7e8feb-b491-4cf7-a9f1-bf3703467718',
    'detail-type': 'AWS API Call via CloudTrail',
    source,
    account: ENV.account,
    time: '2026-11-30T10:00:00Z',
    region: ENV.region,
    resources: [],
    detail: {
      eventVersion: '1.09',
      userIdentity: {
        type: 'AssumedRole',
        principalId: 'AROAEXAMPLEID:mallory',
        arn: `arn:aws:sts::${ENV.account}:assumed-role/Admin/mallory`,
        accountId: ENV.account,
        accessKeyId: 'ASIAEXAMPLEKEYID',
        sessionContext: {
          sessionIssuer: {
            type: 'Role',
            principalId: 'AROAEXAMPLEID',
            arn: `arn:aws:iam::${ENV.account}:role/Admin`,
            accountId: ENV.account,
            userName: 'Admin',
          },
          attributes: { creationDate: '2026-11-30T09:55:00Z', mfaAuthenticated: 'false' },
        },
      },
      eventTime: '2026-11-30T10:00:00Z',
      eventSource,
      eventName,
      awsRegion: ENV.region,
      sourceIPAddress: '203.0.113.7',
      userAgent: 'aws-cli/2.17.0',
      requestParameters,
      responseElements: null,
      requestID: 'c2a4b5d6-1111-2222-3333-444455556666',
      eventID: 'd3b5c6e7-1111-2222-3333-444455556666',
      readOnly: false,
      eventType: 'AwsApiCall',
      managementEvent: true,
      recipientAccountId: ENV.account,
      eventCategory: 'Management',
      ...extra,
    },
  };
}

/** A real CloudTrail record (test/fixtures) with the guard's resource put in, wrapped in the envelope. */
function fromFixture(file: string, source: string, change: (record: Record<string, unknown>) => void) {
  const record = JSON.parse(readFileSync(join(ROOT, 'test/fixtures', file), 'utf8')) as Record<string, unknown>;
  change(record);
  return {
    version: '0',
    id: 'f1',
    'detail-type': 'AWS API Call via CloudTrail',
    source,
    account: ENV.account,
    time: record.eventTime,
    region: ENV.region,
    resources: [],
    detail: record,
  };
}

const alerted = (event: unknown) => tamperRules.filter((r) => matches(r.pattern, event)).map((r) => r.id);

describe('tamper alerts on the synthesized patterns', () => {
  it('watch the guard with more than one rule, each a CloudTrail pattern that skips failed calls', () => {
    expect(tamperRules.length).toBeGreaterThan(5);
    for (const { pattern } of tamperRules) {
      expect(pattern['detail-type']).toEqual(['AWS API Call via CloudTrail']);
      expect((pattern.detail as Record<string, unknown>).errorCode).toEqual([{ exists: false }]);
    }
    const detector = ofType('AWS::Lambda::Function').find(([, f]) => JSON.stringify(f.Properties).includes('RAMPART_CONTROL'))![0];
    const failed = apiCall(
      'aws.lambda',
      'DeleteFunction20150331',
      { functionName: ref(detector) },
      { errorCode: 'AccessDenied', errorMessage: 'denied' },
    );
    expect(alerted(failed)).toEqual([]);
  });

  it('alert on changes to every EventBridge rule of the guard, the tamper rules themselves included', () => {
    const rules = ofType('AWS::Events::Rule').map(([id]) => ref(id));
    // one detector rule per control of the policy, and the tamper rules
    expect(rules.length).toBe(CONTROLS_ON + tamperRules.length);
    for (const name of rules) {
      for (const eventName of ['DisableRule', 'DeleteRule', 'PutRule'])
        expect(`${eventName} ${name}: ${alerted(apiCall('aws.events', eventName, { name })).length}`).not.toMatch(/: 0$/);
      expect(alerted(apiCall('aws.events', 'RemoveTargets', { rule: name, ids: ['Target0'] }))).not.toEqual([]);
      expect(
        alerted(
          apiCall('aws.events', 'PutTargets', {
            rule: name,
            targets: [{ id: 'Target0', arn: 'arn:aws:sqs:eu-west-1:111122223333:elsewhere' }],
          }),
        ),
      ).not.toEqual([]);
    }
    expect(alerted(apiCall('aws.events', 'DisableRule', { name: 'someone-elses-rule' }))).toEqual([]);
    // the rule named in `name` on PutTargets is not how CloudTrail names it there
    expect(alerted(apiCall('aws.events', 'RemoveTargets', { rule: 'someone-elses-rule', ids: ['Target0'] }))).toEqual([]);
  });

  it('alert on changes to every function, named by name, full, partial or qualified ARN, whatever API version the event name carries', () => {
    const functions = ofType('AWS::Lambda::Function').map(([id]) => ({ name: ref(id), arn: attr(id, 'Arn') }));
    // a detector per control, and the guard's own eight
    expect(functions.length).toBe(CONTROLS_ON + 8);
    const eventNames = [
      'UpdateFunctionCode20150331v2',
      'UpdateFunctionConfiguration20150331v2',
      'DeleteFunction20150331',
      'PutFunctionConcurrency20171031',
      'RemovePermission20150331v2',
      'PutFunctionEventInvokeConfig',
      'DeleteFunctionEventInvokeConfig',
      'CreateEventSourceMapping20150331',
    ];
    for (const { name, arn } of functions) {
      const ids = [
        name,
        arn,
        `${ENV.account}:function:${name}`,
        `${arn}:$LATEST`,
        `${arn}:live`,
        `${ENV.account}:function:${name}:3`,
        `${name}:live`,
      ];
      for (const functionName of ids) {
        for (const eventName of eventNames)
          expect(`${eventName} ${functionName}: ${alerted(apiCall('aws.lambda', eventName, { functionName })).length}`).not.toMatch(/: 0$/);
      }
      // a function whose name merely starts with the guard's is another function
      expect(alerted(apiCall('aws.lambda', 'UpdateFunctionCode20150331v2', { functionName: `${arn}-copy` }))).toEqual([]);
      expect(alerted(apiCall('aws.lambda', 'UpdateFunctionCode20150331v2', { functionName: `${name}-copy` }))).toEqual([]);
    }
    expect(
      alerted(apiCall('aws.lambda', 'DeleteFunction20150331', { functionName: 'arn:aws:lambda:eu-west-1:111122223333:function:billing' })),
    ).toEqual([]);
    // reading a function changes nothing
    expect(alerted(apiCall('aws.lambda', 'GetFunction20150331v2', { functionName: functions[0]!.name }))).toEqual([]);
  });

  it("alert on changes to every role of the guard: functions', state machines', the scheduler's, the Slack notifier's", () => {
    const roles = ofType('AWS::IAM::Role').map(([id]) => ref(id));
    expect(roles.length).toBe(CONTROLS_ON + 11);
    for (const roleName of roles) {
      for (const [eventName, rest] of [
        ['PutRolePolicy', { policyName: 'x', policyDocument: '{}' }],
        ['DeleteRolePolicy', { policyName: 'x' }],
        ['AttachRolePolicy', { policyArn: 'arn:aws:iam::aws:policy/AdministratorAccess' }],
        ['DetachRolePolicy', { policyArn: 'arn:aws:iam::aws:policy/AdministratorAccess' }],
        ['UpdateAssumeRolePolicy', { policyDocument: '{}' }],
        ['DeleteRole', {}],
      ] as const) {
        const event = { ...apiCall('aws.iam', eventName, { roleName, ...rest }), region: 'us-east-1' };
        expect(`${eventName} ${roleName}: ${alerted(event).length}`).not.toMatch(/: 0$/);
      }
    }
    expect(alerted(apiCall('aws.iam', 'DeleteRole', { roleName: 'SomeoneElse' }))).toEqual([]);
  });

  it('alert on changes to the state machines and on stopping their executions', () => {
    const machines = ofType('AWS::StepFunctions::StateMachine').map(([id]) => ({ arn: ref(id), name: attr(id, 'Name') }));
    expect(machines).toHaveLength(2);
    for (const { arn, name } of machines) {
      expect(alerted(apiCall('aws.states', 'UpdateStateMachine', { stateMachineArn: arn, definition: '{}' }))).not.toEqual([]);
      expect(alerted(apiCall('aws.states', 'DeleteStateMachine', { stateMachineArn: arn }))).not.toEqual([]);
      const execution = `arn:aws:states:${ENV.region}:${ENV.account}:execution:${name}:run-1`;
      expect(alerted(apiCall('aws.states', 'StopExecution', { executionArn: execution }))).not.toEqual([]);
      expect(
        alerted(
          apiCall('aws.states', 'StopExecution', {
            executionArn: `arn:aws:states:${ENV.region}:${ENV.account}:execution:${name}-other:run-1`,
          }),
        ),
      ).toEqual([]);
    }
  });

  it('alert on changes to the sweep schedule', () => {
    const name = ref(only('AWS::Scheduler::Schedule'));
    expect(alerted(apiCall('aws.scheduler', 'UpdateSchedule', { name, scheduleExpression: 'rate(365 days)' }))).not.toEqual([]);
    expect(alerted(apiCall('aws.scheduler', 'DeleteSchedule', { name }))).not.toEqual([]);
    expect(alerted(apiCall('aws.scheduler', 'DeleteSchedule', { name: 'nightly-report' }))).toEqual([]);
  });

  it('alert on disabling, scheduling the deletion of, or changing the policy of the key, however the key is named', () => {
    const key = only('AWS::KMS::Key');
    const [keyId, keyArn] = [ref(key), attr(key, 'Arn')];
    const disable = fromFixture('kms-DisableKey.awsdocs-kms-2014-doc.json', 'aws.kms', (r) => {
      r.requestParameters = { keyId };
      r.resources = [{ ARN: keyArn, accountId: ENV.account }];
    });
    expect(alerted(disable)).not.toEqual([]);
    // by alias: only the record's `resources` names the key
    const schedule = fromFixture('kms-ScheduleKeyDeletion.awsdocs-kms-doc.json', 'aws.kms', (r) => {
      r.requestParameters = { pendingWindowInDays: 7, keyId: 'alias/rampart' };
      r.resources = [{ accountId: ENV.account, type: 'AWS::KMS::Key', ARN: keyArn }];
    });
    expect(alerted(schedule)).not.toEqual([]);
    expect(
      alerted(
        apiCall(
          'aws.kms',
          'PutKeyPolicy',
          { keyId: keyArn, policyName: 'default', policy: '{}' },
          { resources: [{ ARN: keyArn, accountId: ENV.account }] },
        ),
      ),
    ).not.toEqual([]);
    const other = fromFixture('kms-DisableKey.awsdocs-kms-2014-doc.json', 'aws.kms', () => undefined);
    expect(alerted(other)).toEqual([]);
  });

  it("alert on deleting or reconfiguring the topic and on unsubscribing the guard's subscriptions", () => {
    const topicArn = ref(only('AWS::SNS::Topic'));
    expect(alerted(apiCall('aws.sns', 'DeleteTopic', { topicArn }))).not.toEqual([]);
    expect(alerted(apiCall('aws.sns', 'SetTopicAttributes', { topicArn, attributeName: 'Policy', attributeValue: '{}' }))).not.toEqual([]);
    expect(alerted(apiCall('aws.sns', 'Unsubscribe', { subscriptionArn: `${topicArn}:0b7e3b0f-4e24-4b8e-9f35-8a5c9e0f1a2b` }))).not.toEqual(
      [],
    );
    expect(
      alerted(apiCall('aws.sns', 'Unsubscribe', { subscriptionArn: `${topicArn}-other:0b7e3b0f-4e24-4b8e-9f35-8a5c9e0f1a2b` })),
    ).toEqual([]);
    expect(alerted(apiCall('aws.sns', 'DeleteTopic', { topicArn: `arn:aws:sns:${ENV.region}:${ENV.account}:billing` }))).toEqual([]);
  });

  it('alert on changes to the approval signing key and the Slack secrets, by name or ARN', () => {
    const secret = only('AWS::SecretsManager::Secret');
    const name = resolver.resolve(template.Resources[secret]!.Properties.Name) as string;
    const fullArn = ref(secret);
    for (const secretId of [
      name,
      fullArn,
      fullArn.slice(0, -7),
      'rampart/slack-webhook',
      WEBHOOK,
      `${WEBHOOK}-AbC123`,
      'rampart/slack-signing',
      SIGNING,
    ]) {
      for (const eventName of ['PutSecretValue', 'UpdateSecret', 'DeleteSecret', 'PutResourcePolicy']) {
        expect(`${eventName} ${secretId}: ${alerted(apiCall('aws.secretsmanager', eventName, { secretId })).length}`).not.toMatch(/: 0$/);
      }
    }
    expect(alerted(apiCall('aws.secretsmanager', 'PutSecretValue', { secretId: 'rampart/slack-webhook-for-billing' }))).toEqual([]);
    expect(alerted(apiCall('aws.secretsmanager', 'GetSecretValue', { secretId: name }))).toEqual([]);
  });

  it('alert on deleting, silencing or rewriting any alarm of the guard', () => {
    const alarms = ofType('AWS::CloudWatch::Alarm').map(([id]) => ref(id));
    expect(alarms.length).toBeGreaterThanOrEqual(3);
    for (const name of alarms) {
      expect(alerted(apiCall('aws.monitoring', 'DeleteAlarms', { alarmNames: [name] }))).not.toEqual([]);
      expect(alerted(apiCall('aws.monitoring', 'DisableAlarmActions', { alarmNames: ['unrelated', name] }))).not.toEqual([]);
      expect(alerted(apiCall('aws.monitoring', 'PutMetricAlarm', { alarmName: name, alarmActions: [] }))).not.toEqual([]);
    }
    expect(alerted(apiCall('aws.monitoring', 'DeleteAlarms', { alarmNames: ['billing-alarm'] }))).toEqual([]);
  });

  it('alert on stopping, deleting or changing the trail the stack made, by name or ARN', () => {
    const trail = only('AWS::CloudTrail::Trail');
    const [name, trailArn] = [ref(trail), attr(trail, 'Arn')];
    const deleted = fromFixture('cloudtrail-DeleteTrail.elastic-beats-real.json', 'aws.cloudtrail', (r) => {
      r.requestParameters = { name: trailArn };
    });
    expect(alerted(deleted)).not.toEqual([]);
    expect(alerted(apiCall('aws.cloudtrail', 'StopLogging', { name }))).not.toEqual([]);
    expect(alerted(apiCall('aws.cloudtrail', 'UpdateTrail', { name, s3BucketName: 'elsewhere' }))).not.toEqual([]);
    const selectors = fromFixture('cloudtrail-PutEventSelectors.soclabs-stratus-real.json', 'aws.cloudtrail', (r) => {
      (r.requestParameters as Record<string, unknown>).trailName = trailArn;
    });
    expect(alerted(selectors)).not.toEqual([]);
    // the real record as published: another account's trail
    expect(alerted(fromFixture('cloudtrail-DeleteTrail.elastic-beats-real.json', 'aws.cloudtrail', () => undefined))).toEqual([]);
  });
});

describe('IAM events outside us-east-1', () => {
  const synthIn = (region: string | undefined, iamEventsForwarded?: boolean) => {
    const a = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    return new RampartStack(a, 'Rampart', {
      policy: parsePolicy({ controls: { 's3-default-encryption': { algorithm: 'AES256' } } }),
      env: region ? { region } : undefined,
      iamEventsForwarded,
    });
  };

  it('warns at synth when the region is not us-east-1 or not known, unless a forwarder is deployed', () => {
    for (const region of ['eu-west-1', undefined]) {
      Annotations.fromStack(synthIn(region)).hasWarning(
        '*',
        Match.stringLikeRegexp('IAM events reach EventBridge only in us-east-1.*-c iamAlerts=true'),
      );
    }
    expect(Annotations.fromStack(synthIn('us-east-1')).findWarning('*', Match.stringLikeRegexp('IAM events'))).toEqual([]);
    expect(Annotations.fromStack(synthIn('eu-west-1', true)).findWarning('*', Match.stringLikeRegexp('IAM events'))).toEqual([]);
  });
});

describe('the us-east-1 forwarder (-c iamAlerts=true)', () => {
  it('comes with a guard stack of a known region, both cdk-nag clean', () => {
    const a = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    new RampartStack(a, 'Rampart', {
      policy: POLICY,
      env: { region: 'eu-west-1', account: ENV.account },
      iamEventsForwarded: true,
      createTrail: true,
    });
    new IamAlertsStack(a, 'RampartIamAlerts', { guardRegion: 'eu-west-1', env: { account: ENV.account } });
    Validations.of(a).addPlugins(new AwsSolutionsChecks(a));
    expect(() => a.synth()).not.toThrow();
  });

  it("forwards role changes to the guard region's default bus, where the guard's own roles raise the alert", () => {
    const a = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const forwarder = new IamAlertsStack(a, 'RampartIamAlerts', { guardRegion: ENV.region });
    Validations.of(a).addPlugins(new AwsSolutionsChecks(a, { writeSuppressionsToCloudFormation: true }));
    expect(() => a.synth()).not.toThrow();
    expect(forwarder.region).toBe('us-east-1');
    const t = Template.fromStack(forwarder).toJSON() as { Resources: Resources };
    const local = new TemplateResolver(t, { ...ENV, region: 'us-east-1', stackName: 'RampartIamAlerts' });
    const [rule] = Object.values(t.Resources).filter((r) => r.Type === 'AWS::Events::Rule');
    const { EventPattern, Targets } = local.resolve(rule!.Properties) as {
      EventPattern: Record<string, unknown>;
      Targets: Array<{ Arn: string; DeadLetterConfig?: unknown }>;
    };
    expect(Targets).toEqual([
      expect.objectContaining({
        Arn: `arn:aws:events:${ENV.region}:${ENV.account}:event-bus/default`,
        DeadLetterConfig: expect.anything(),
      }),
    ]);

    const guardRole = ref(ofType('AWS::IAM::Role')[0]![0]);
    const change = {
      ...apiCall('aws.iam', 'AttachRolePolicy', { roleName: guardRole, policyArn: 'arn:aws:iam::aws:policy/AdministratorAccess' }),
      region: 'us-east-1',
    };
    change.detail.awsRegion = 'us-east-1';
    expect(matches(EventPattern, change)).toBe(true);
    // on the guard's bus the event keeps its content: the guard's rule for roles takes it
    expect(alerted(change).some((id) => id.includes('Roles'))).toBe(true);
    expect(matches(EventPattern, apiCall('aws.iam', 'ListRoles', {}))).toBe(false);
  });
});
