import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { loadPolicyFile, parsePolicy, type Policy } from '../../controls/policy';
import { DETECTORS } from '../../controls';
import { eventPatternsOf } from '../../detectors/patterns';
import { RampartStack } from '../../infra/stack';
import { rampartVersion } from '../../core/version';

const ROOT = join(__dirname, '../..');
const EXAMPLE = loadPolicyFile(join(ROOT, 'examples/rampart.config.yaml'));

function synth(policy: Policy, props: { createTrail?: boolean } = {}): Template {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  return Template.fromStack(new RampartStack(app, 'Rampart', { policy, ...props }));
}

type Statement = { Action: string | string[]; Resource: unknown; Effect: string };
const actionsOf = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);

/**
 * Every statement of every identity policy, by the role it is attached to: the role's inline
 * policies and the managed policies CDK splits off when they outgrow IAM's size limit
 * (`<Role>OverflowPolicy1`, attached through their own `Roles`).
 */
function policiesByRole(template: Template): Map<string, Statement[]> {
  const byRole = new Map<string, Statement[]>();
  const policies = [
    ...Object.values(template.findResources('AWS::IAM::Policy')),
    ...Object.values(template.findResources('AWS::IAM::ManagedPolicy')),
  ] as Array<{
    Properties: { Roles?: Array<{ Ref: string }>; PolicyDocument: { Statement: Statement[] } };
  }>;
  for (const policy of policies) {
    for (const role of policy.Properties.Roles ?? [])
      byRole.set(role.Ref, [...(byRole.get(role.Ref) ?? []), ...policy.Properties.PolicyDocument.Statement]);
  }
  return byRole;
}

function roleOfFunction(template: Template, handlerExport: string): string {
  const [fn] = Object.values(
    template.findResources('AWS::Lambda::Function', { Properties: { Handler: `index.${handlerExport}` } }),
  ) as Array<{ Properties: { Role: { 'Fn::GetAtt': [string] } } }>;
  return fn!.Properties.Role['Fn::GetAtt'][0];
}

describe('the Rampart stack', () => {
  let template: Template;
  beforeAll(() => {
    template = synth(EXAMPLE);
  });

  it('records the Rampart version it was deployed from (the Version output rampart doctor compares)', () => {
    const outputs = template.findOutputs('*');
    const version = Object.entries(outputs).filter(([key]) => /^GuardVersion[0-9A-F]{8}$/.test(key));

    expect(version).toHaveLength(1);
    expect(version[0]![1].Value).toBe(rampartVersion());
  });

  it('has one rule per enabled control with the detector patterns, excluding the remediation role', () => {
    const rules = template.findResources('AWS::Events::Rule', {
      Properties: { Description: Match.stringLikeRegexp('^Rampart (s3|apigateway)') },
    });
    // the example policy enables every registered control (the conformance suite holds it to that)
    expect(Object.keys(rules)).toHaveLength(DETECTORS.filter((d) => /^(s3|apigateway)-/.test(d.id)).length);
    const applyRole = roleOfFunction(template, 'applyHandler');
    for (const detector of DETECTORS) {
      const [rule] = Object.values(
        template.findResources('AWS::Events::Rule', { Properties: { Description: Match.stringLikeRegexp(`^Rampart ${detector.id}:`) } }),
      ) as Array<{
        Properties: { EventPattern: { $or?: Array<Record<string, unknown>> } };
      }>;
      // a control with one pattern has it as the rule's pattern, not under $or
      const branches = rule!.Properties.EventPattern.$or ?? [rule!.Properties.EventPattern];
      const patterns = eventPatternsOf(detector);
      expect(branches).toHaveLength(patterns.length);
      patterns.forEach((pattern, i) => {
        const { detail, ...top } = pattern as { detail: Record<string, unknown> };
        const branch = branches[i] as { detail: Record<string, unknown> };
        expect(branch).toMatchObject(top);
        expect(branch.detail).toMatchObject(detail);
        if (pattern['detail-type'] !== undefined && (pattern['detail-type'] as string[])[0] === 'AWS API Call via CloudTrail') {
          expect(branch.detail.$or).toEqual([
            { userIdentity: { sessionContext: { sessionIssuer: { arn: [{ 'anything-but': [{ 'Fn::GetAtt': [applyRole, 'Arn'] }] }] } } } },
            { userIdentity: { sessionContext: { sessionIssuer: { arn: [{ exists: false }] } } } },
          ]);
        }
      });
    }
  });

  it('lists every IAM action one by one: no * in any action of any identity policy', () => {
    for (const [role, statements] of policiesByRole(template)) {
      for (const s of statements) for (const a of actionsOf(s)) expect(`${role}: ${a}`).not.toMatch(/\*/);
    }
  });

  it('gives write permissions to the apply function only, exactly those of the remediators', () => {
    const byRole = policiesByRole(template);
    const apply = new Set((byRole.get(roleOfFunction(template, 'applyHandler')) ?? []).flatMap(actionsOf));
    expect([...apply].sort()).toEqual(
      [
        // writes: exactly the remediators'
        'apigateway:PATCH',
        'apigateway:POST',
        'apigateway:SetWebACL',
        's3:PutEncryptionConfiguration',
        's3:PutBucketPolicy',
        's3:PutBucketPublicAccessBlock',
        's3:PutAccountPublicAccessBlock',
        'wafv2:AssociateWebACL',
        'cloudtrail:StartLogging',
        'cloudtrail:UpdateTrail',
        'cloudtrail:PutEventSelectors',
        'config:StartConfigurationRecorder',
        'config:PutConfigurationRecorder',
        'config:PutDeliveryChannel',
        'iam:PassRole',
        'kms:CancelKeyDeletion',
        'kms:EnableKey',
        'kms:EnableKeyRotation',
        'kms:PutKeyPolicy',
        // reads: Apply plans again before it writes
        'apigateway:GET',
        'cloudtrail:GetTrail',
        'cloudtrail:GetTrailStatus',
        'cloudtrail:GetEventSelectors',
        'cloudtrail:ListTags',
        'config:DescribeConfigurationRecorders',
        'config:DescribeConfigurationRecorderStatus',
        'config:DescribeDeliveryChannels',
        's3:GetEncryptionConfiguration',
        's3:GetBucketTagging',
        's3:GetBucketPolicy',
        's3:GetBucketWebsite',
        's3:GetBucketPublicAccessBlock',
        's3:GetAccountPublicAccessBlock',
        'kms:DescribeKey',
        'kms:GetKeyRotationStatus',
        'kms:GetKeyPolicy',
        'kms:ListResourceTags',
        'wafv2:GetWebACL',
        'wafv2:GetWebACLForResource',
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        'xray:PutTelemetryRecords',
        'xray:PutTraceSegments',
      ].sort(),
    );
    const writes = [
      's3:PutEncryptionConfiguration',
      's3:PutBucketPolicy',
      's3:PutBucketPublicAccessBlock',
      's3:PutAccountPublicAccessBlock',
      'wafv2:AssociateWebACL',
      'apigateway:SetWebACL',
      'apigateway:PATCH',
      'kms:CancelKeyDeletion',
      'kms:EnableKey',
      'kms:EnableKeyRotation',
      'kms:PutKeyPolicy',
      'apigateway:POST',
    ];
    for (const [role, statements] of byRole) {
      if (role === roleOfFunction(template, 'applyHandler')) continue;
      for (const a of statements.flatMap(actionsOf)) expect(`${role}: ${a}`).not.toMatch(new RegExp(`: (${writes.join('|')})$`));
    }
  });

  it('lets every detector function publish exemption changes on the topic, and only there', () => {
    const detectors = Object.values(
      template.findResources('AWS::Lambda::Function', {
        Properties: { Environment: { Variables: { RAMPART_CONTROL: Match.anyValue() } } },
      }),
    ) as Array<{
      Properties: { Role: { 'Fn::GetAtt': [string] } };
    }>;
    const [topic] = Object.keys(template.findResources('AWS::SNS::Topic'));
    expect(detectors).toHaveLength(DETECTORS.length);
    for (const fn of detectors) {
      const publish = (policiesByRole(template).get(fn.Properties.Role['Fn::GetAtt'][0]) ?? []).filter((st) =>
        actionsOf(st).includes('sns:Publish'),
      );
      expect(publish.map((st) => st.Resource)).toEqual([{ Ref: topic }]);
    }
  });

  it('encrypts the topic, the table, every log group and the dead-letter queue', () => {
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]),
      },
    });
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      // SSEEnabled without SSEType: KMS with the AWS managed key aws/dynamodb
      SSESpecification: { SSEEnabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
    });
    for (const group of Object.values(template.findResources('AWS::Logs::LogGroup')) as Array<{ Properties: { KmsKeyId?: unknown } }>) {
      expect(group.Properties.KmsKeyId).toBeDefined();
    }
    template.hasResourceProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true });
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
  });

  it('dead-letters every asynchronous invocation and every rule target', () => {
    const detectors = template.findResources('AWS::Lambda::Function', {
      Properties: { Handler: 'index.handler', Environment: { Variables: { RAMPART_CONTROL: Match.anyValue() } } },
    });
    expect(Object.keys(detectors)).toHaveLength(DETECTORS.length);
    for (const fn of Object.values(detectors) as Array<{ Properties: { DeadLetterConfig?: unknown } }>)
      expect(fn.Properties.DeadLetterConfig).toBeDefined();
    for (const rule of Object.values(template.findResources('AWS::Events::Rule')) as Array<{
      Properties: { Targets: Array<{ DeadLetterConfig?: unknown }> };
    }>) {
      for (const target of rule.Properties.Targets) expect(target.DeadLetterConfig).toBeDefined();
    }
  });

  it('runs every function on Node.js 22 with tracing', () => {
    for (const fn of Object.values(template.findResources('AWS::Lambda::Function')) as Array<{
      Properties: { Runtime: string; TracingConfig: { Mode: string } };
    }>) {
      expect(fn.Properties.Runtime).toBe('nodejs22.x');
      expect(fn.Properties.TracingConfig.Mode).toBe('Active');
    }
  });

  it('protects the approval API like the APIs it guards: WAF, throttling, access logs', () => {
    template.hasResourceProperties('AWS::WAFv2::WebACLAssociation', {
      ResourceArn: Match.anyValue(),
      WebACLArn: { 'Fn::GetAtt': [Match.anyValue(), 'Arn'] },
    });
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      MethodSettings: [Match.objectLike({ HttpMethod: '*', ResourcePath: '/*', ThrottlingRateLimit: 5, ThrottlingBurstLimit: 10 })],
      AccessLogSetting: { DestinationArn: Match.anyValue(), Format: Match.anyValue() },
      TracingEnabled: true,
    });
  });

  it('logs and traces the state machine, and alarms on dead letters and failed executions', () => {
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineType: 'STANDARD',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: Match.objectLike({ Level: 'ALL', IncludeExecutionData: false }),
    });
    template.resourceCountIs('AWS::CloudWatch::Alarm', 7);
  });

  it('alarms on recovered findings, workflows that could not be started and findings open too long', () => {
    for (const [name, statistic, period] of [
      ['FindingsRecovered', 'Sum', 300],
      ['WorkflowStartFailures', 'Sum', 300],
      ['StaleOpenFindings', 'Maximum', 3600],
    ] as const) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'Rampart',
        MetricName: name,
        Dimensions: [{ Name: 'service', Value: 'rampart' }],
        Statistic: statistic,
        Period: period,
        Threshold: 1,
      });
    }
  });

  it("lets detectors check only the workflow's executions and send malformed events to the dead-letter queue", () => {
    const detectors = template.findResources('AWS::Lambda::Function', {
      Properties: { Environment: { Variables: { RAMPART_CONTROL: Match.anyValue() } } },
    }) as Record<string, { Properties: { Environment: { Variables: Record<string, unknown> } } }>;
    for (const fn of Object.values(detectors))
      expect(fn.Properties.Environment.Variables.RAMPART_DEAD_LETTER_QUEUE_URL).toEqual({
        Ref: expect.stringMatching(/^GuardDeadLetters/),
      });
    const statements = [
      ...Object.values(template.findResources('AWS::IAM::Policy')),
      ...Object.values(template.findResources('AWS::IAM::ManagedPolicy')),
    ].flatMap(
      (p) =>
        (p as { Properties: { PolicyDocument: { Statement: Array<{ Action: unknown; Resource: unknown }> } } }).Properties.PolicyDocument
          .Statement,
    );
    const describe = statements.filter((st) => st.Action === 'states:DescribeExecution');
    expect(describe).toHaveLength(DETECTORS.length + 1); // every detector and the sweep
    for (const st of describe) {
      expect(st.Resource).toEqual({
        'Fn::Join': [
          '',
          [
            'arn:',
            { Ref: 'AWS::Partition' },
            ':states:',
            { Ref: 'AWS::Region' },
            ':',
            { Ref: 'AWS::AccountId' },
            ':execution:',
            { 'Fn::GetAtt': [expect.stringMatching(/^GuardWorkflowStateMachine/), 'Name'] },
            ':*',
          ],
        ],
      });
    }
    const send = statements.filter((st) => st.Action === 'sqs:SendMessage' && JSON.stringify(st.Resource).includes('GuardDeadLetters'));
    expect(send.length).toBeGreaterThanOrEqual(3);
  });

  it("alerts when someone tampers with the guard's rules, executions, functions or roles (patterns: tamper.test.ts)", () => {
    for (const source of ['aws.events', 'aws.states', 'aws.lambda', 'aws.iam']) {
      template.hasResourceProperties('AWS::Events::Rule', {
        Description: Match.stringLikeRegexp('tamper alert'),
        EventPattern: Match.objectLike({ source: [source], 'detail-type': ['AWS API Call via CloudTrail'] }),
        Targets: [Match.objectLike({ DeadLetterConfig: Match.anyValue() })],
      });
    }
  });

  it('creates an encrypted, validated, multi-region trail only when asked', () => {
    template.resourceCountIs('AWS::CloudTrail::Trail', 0);
    const withTrail = synth(parsePolicy({ controls: { 's3-default-encryption': { algorithm: 'AES256' } } }), { createTrail: true });

    withTrail.hasResourceProperties('AWS::CloudTrail::Trail', {
      IsMultiRegionTrail: true,
      EnableLogFileValidation: true,
      KMSKeyId: Match.anyValue(),
      IncludeGlobalServiceEvents: true,
    });
  });
});

describe('cdk-nag (AwsSolutions)', () => {
  it('finds nothing unacknowledged, and every acknowledgement gives its reason', () => {
    for (const [policy, props] of [
      [EXAMPLE, {}],
      [
        parsePolicy({
          notifications: {
            emails: ['secops@example.com'],
            slack: {
              webhookSecretArn: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:rampart/slack-webhook',
              signingSecretArn: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:rampart/slack-signing-AbCdEf',
              teamId: 'T0RAMPART',
              appId: 'A0RAMPART',
            },
          },
          controls: { 's3-default-encryption': { algorithm: 'AES256' } },
        }),
        { createTrail: true },
      ],
    ] as const) {
      const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
      const stack = new RampartStack(app, 'Rampart', { policy, ...props });
      Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { writeSuppressionsToCloudFormation: true }));

      expect(() => app.synth()).not.toThrow();
      const reasons = Object.values(
        Template.fromStack(stack).toJSON().Resources as Record<
          string,
          { Metadata?: { cdk_nag?: { rules_to_suppress: Array<{ id: string; reason: string }> } } }
        >,
      ).flatMap((r) => r.Metadata?.cdk_nag?.rules_to_suppress ?? []);
      expect(reasons.length).toBeGreaterThan(0);
      for (const r of reasons) expect(`${r.id}: ${r.reason}`).toMatch(/: .{40,}/);
    }
  });
});

describe('secrets named in the policy', () => {
  it('lets the Slack functions read exactly their secrets, with or without the ARN suffix', () => {
    const template = synth(
      parsePolicy({
        notifications: {
          slack: {
            webhookSecretArn: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:rampart/slack-webhook',
            signingSecretArn: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:rampart/slack-signing-AbCdEf',
            teamId: 'T0RAMPART',
            appId: 'A0RAMPART',
          },
        },
        controls: { 's3-default-encryption': { algorithm: 'AES256' } },
      }),
    );
    const reads = [...policiesByRole(template).values()]
      .flat()
      .filter((s) => actionsOf(s).includes('secretsmanager:GetSecretValue'))
      .map((s) => s.Resource);

    expect(reads).toEqual(
      expect.arrayContaining([
        'arn:aws:secretsmanager:us-east-1:111122223333:secret:rampart/slack-webhook-??????',
        'arn:aws:secretsmanager:us-east-1:111122223333:secret:rampart/slack-signing-AbCdEf',
      ]),
    );
  });
});

describe('synth with a bad policy file', () => {
  it('fails with the path of the bad field, before building anything', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rampart-synth-'));
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'controls:\n  apigateway-throttling: { rateLimit: -5, burstLimit: 10 }\n');

    const result = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'infra/app.ts')], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, CDK_CONTEXT_JSON: JSON.stringify({ config: bad }), CDK_OUTDIR: join(dir, 'out') },
      timeout: 60_000,
    });

    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`invalid policy ${bad}:`);
    expect(result.stderr).toContain('controls.apigateway-throttling.rateLimit: ');
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('the periodic sweep', () => {
  it('runs on one full vCPU (1,769 MB): the sweep is CPU-bound with the real SDK', () => {
    const template = synth(parsePolicy({ controls: { 's3-default-encryption': { algorithm: 'AES256' } } }));
    const sweep = Object.values(template.findResources('AWS::Lambda::Function')).filter((f) =>
      String((f as { Properties: { Description?: string } }).Properties.Description).startsWith('Rampart sweep:'),
    ) as Array<{ Properties: { MemorySize: number } }>;
    expect(sweep.map((f) => f.Properties.MemorySize)).toEqual([1769]);
  });

  it('gives each control of sweep.schedules a schedule of its own, on the same state machine, that control alone', () => {
    const template = synth(
      parsePolicy({
        sweep: { schedule: 'rate(1 hour)', schedules: { 'apigateway-throttling': 'rate(10 minutes)' } },
        controls: { 's3-default-encryption': { algorithm: 'AES256' }, 'apigateway-throttling': { rateLimit: 1, burstLimit: 1 } },
      }),
    );
    const schedules = Object.values(template.findResources('AWS::Scheduler::Schedule')) as Array<{
      Properties: { ScheduleExpression: string; Target: { Arn: unknown; Input: string } };
    }>;

    expect(schedules.map((s) => [s.Properties.ScheduleExpression, JSON.parse(s.Properties.Target.Input)])).toEqual([
      ['rate(1 hour)', { controls: ['s3-default-encryption', 'apigateway-throttling'] }],
      ['rate(10 minutes)', { controls: ['apigateway-throttling'] }],
    ]);
    expect(schedules[1]!.Properties.Target.Arn).toEqual(schedules[0]!.Properties.Target.Arn);
  });

  it('is scheduled by the policy and sweeps every enabled control in pages', () => {
    const template = synth(
      parsePolicy({
        sweep: { schedule: 'rate(30 minutes)' },
        controls: { 's3-default-encryption': { algorithm: 'AES256' }, 'apigateway-throttling': { rateLimit: 1, burstLimit: 1 } },
      }),
    );

    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'rate(30 minutes)',
      Target: Match.objectLike({
        Input: JSON.stringify({ controls: ['s3-default-encryption', 'apigateway-throttling'] }),
        DeadLetterConfig: Match.anyValue(),
      }),
    });
    const machines = template.findResources('AWS::StepFunctions::StateMachine');
    const sweepDefinition = Object.values(machines)
      .map((m) => JSON.stringify((m as { Properties: { DefinitionString: unknown } }).Properties.DefinitionString))
      .find((d) => d.includes('Each control'))!;
    expect(sweepDefinition).toContain('More pages?');
    template.hasResourceProperties('AWS::Lambda::Function', {
      Handler: 'index.handler',
      Timeout: 900,
      Description: Match.stringLikeRegexp('^Rampart sweep'),
    });
  });

  it('lets the sweep list and read, never write', () => {
    const template = synth(EXAMPLE);
    const byRole = policiesByRole(template);
    const [fn] = Object.values(
      template.findResources('AWS::Lambda::Function', { Properties: { Description: Match.stringLikeRegexp('^Rampart sweep') } }),
    ) as Array<{ Properties: { Role: { 'Fn::GetAtt': [string] } } }>;
    const actions = new Set((byRole.get(fn!.Properties.Role['Fn::GetAtt'][0]) ?? []).flatMap(actionsOf));

    expect(actions).toEqual(
      new Set([
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        'xray:PutTraceSegments',
        'xray:PutTelemetryRecords',
        's3:ListAllMyBuckets',
        's3:GetBucketLocation',
        's3:GetEncryptionConfiguration',
        's3:GetBucketTagging',
        's3:GetBucketPolicy',
        's3:GetBucketWebsite',
        's3:GetBucketPublicAccessBlock',
        's3:GetAccountPublicAccessBlock',
        'kms:DescribeKey',
        'kms:ListKeys',
        'kms:GetKeyRotationStatus',
        'kms:GetKeyPolicy',
        'kms:ListResourceTags',
        'apigateway:GET',
        'wafv2:GetWebACL',
        'wafv2:GetWebACLForResource',
        'cloudtrail:ListTrails',
        'cloudtrail:GetTrail',
        'cloudtrail:GetTrailStatus',
        'cloudtrail:GetEventSelectors',
        'cloudtrail:ListTags',
        'config:DescribeConfigurationRecorders',
        'config:DescribeConfigurationRecorderStatus',
        'config:DescribeDeliveryChannels',
        'dynamodb:UpdateItem',
        'dynamodb:PutItem',
        'dynamodb:GetItem',
        'dynamodb:Scan',
        'states:StartExecution',
        'states:DescribeExecution',
      ]),
    );
  });
});
