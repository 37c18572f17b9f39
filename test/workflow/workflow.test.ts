import { PutBucketEncryptionCommand } from '@aws-sdk/client-s3';
import { PublishCommand } from '@aws-sdk/client-sns';
import { AssociateWebACLCommand, WAFNonexistentItemException } from '@aws-sdk/client-wafv2';
import { UpdateStageCommand } from '@aws-sdk/client-api-gateway';
import { parseEvent } from '../../core/events';
import type { Finding } from '../../core/finding';
import { findingKey } from '../../core/resource-key';
import type { Policy } from '../../core/policy';
import { DETECTORS } from '../../controls';
import { judgeEvent } from '../../detectors/judge';
import { EventRouter } from '../../detectors/router';
import { makeApprovalCallbackHandler } from '../../handlers/approval-callback';
import type { WorkflowInput } from '../../handlers/workflow';
import { FakeAws, s3Error } from '../fakes';
import { ARTIFACTS_KEY, RAMPART_GUARD_ACL, fixture, policy as makePolicy } from '../helpers';
import { LocalWorkflow, synthesizeWorkflow, type Human, type SynthesizedWorkflow } from './harness';

const POLICY: Policy = makePolicy({
  controls: {
    's3-default-encryption': { algorithm: 'aws:kms', kmsKeyId: ARTIFACTS_KEY, bucketKeyEnabled: true },
    'apigateway-waf': { defaultWebAclArn: RAMPART_GUARD_ACL },
    'apigateway-throttling': { rateLimit: 1000, burstLimit: 500, risk: 'high' },
  },
  approvals: { timeoutHours: 12, approvers: { emails: ['alice@example.com'] } },
});
const PROD = 'arn:aws:apigateway:us-east-1::/restapis/a1b2c3d4e5/stages/prod';
const router = new EventRouter(DETECTORS);

function findingOf(name: string): Finding {
  const judgement = judgeEvent(parseEvent(fixture(name)), POLICY, router).judgements.find((j) => j.outcome === 'violation');
  if (judgement?.outcome !== 'violation') throw new Error(`${name} yields no finding`);
  return judgement.finding;
}

/** Clicks a signed link from the approver's own email: GET (confirmation page), then POST. */
function clickLink(which: 'Approve' | 'Reject', local: () => LocalWorkflow): Human {
  return async ({ deps }) => {
    const email = local().emailsTo('alice@example.com').at(-1)!;
    const url = new URL(new RegExp(`^${which}: +(\\S+)$`, 'm').exec(email)![1]!);
    const [, , , id, decision] = url.pathname.split('/');
    const callback = makeApprovalCallbackHandler(() => deps);
    const request = (httpMethod: string) =>
      callback({
        httpMethod,
        resource: '/approvals/{id}/{decision}',
        path: url.pathname,
        pathParameters: { id: decodeURIComponent(id!), decision: decision! },
        queryStringParameters: Object.fromEntries(url.searchParams),
        headers: {},
        body: null,
        isBase64Encoded: false,
      } as never);
    const page = await request('GET');
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('<form method="post" class="decide">');
    expect((await request('POST')).statusCode).toBe(200);
  };
}

describe('the remediation workflow, run locally on the synthesized definition', () => {
  let workflow: SynthesizedWorkflow;
  let aws: FakeAws;
  let local: LocalWorkflow;
  beforeAll(() => {
    workflow = synthesizeWorkflow(POLICY);
  });
  beforeEach(() => {
    aws = new FakeAws();
    aws.buckets.set('rampart-demo-logs', { rule: { ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } } });
    aws.stages.set(PROD, { methodSettings: { '*/*': { throttlingRateLimit: 2000, throttlingBurstLimit: 1000 } } });
    aws.webAcls.add(RAMPART_GUARD_ACL);
    local = new LocalWorkflow(workflow, POLICY);
  });
  afterEach(() => {
    aws.restore();
    local.restore();
  });

  async function start(name: string, mode: WorkflowInput['mode'] = 'enforce') {
    const finding = findingOf(name);
    const { generation } = await local.deps.findings.open(finding, new Date('2024-06-03T15:59:00Z'));
    return { finding, input: { finding, mode, generation } };
  }

  it('waits for the approval timeout the policy sets', () => {
    const state = (workflow.definition.States as Record<string, { TimeoutSeconds?: number; Resource?: string }>)['Request approval'];

    expect(state?.TimeoutSeconds).toBe(12 * 3600);
    expect(state?.Resource).toBe('arn:aws:states:::lambda:invoke.waitForTaskToken');
  });

  it('retries every Notify with backoff and sends what still fails to an alarmed queue', () => {
    const states = workflow.definition.States as Record<
      string,
      { Retry?: Array<{ ErrorEquals: string[]; MaxAttempts: number; BackoffRate: number }>; Catch?: Array<{ Next: string }> }
    >;
    for (const name of ['Notify detected', 'Notify outcome']) {
      expect(states[name]?.Retry?.at(-1)).toMatchObject({ ErrorEquals: ['States.ALL'], MaxAttempts: 4, BackoffRate: 2 });
      expect(states[name]?.Catch?.map((c) => c.Next)).toEqual([
        `Dead-letter ${name === 'Notify detected' ? 'detected' : 'outcome'} notification`,
      ]);
    }
    const [queue] = Object.keys(workflow.template.findResources('AWS::SQS::Queue')).filter((id) => id.includes('FailedNotifications'));
    const alarms = Object.values(workflow.template.findResources('AWS::CloudWatch::Alarm')) as Array<{
      Properties: { MetricName: string; Dimensions: Array<{ Value: unknown }> };
    }>;
    expect(
      alarms.filter(
        (a) => a.Properties.MetricName === 'ApproximateNumberOfMessagesVisible' && JSON.stringify(a.Properties.Dimensions).includes(queue!),
      ),
    ).toHaveLength(1);
  });

  it('fixes a low-risk finding end to end: detected, remediated, finding closed', async () => {
    const { finding, input } = await start('s3-DeleteBucketEncryption-constructed.json');

    const result = await local.run(input);

    expect(result.status).toBe('succeeded');
    expect(result.notifications.map((n) => n.kind)).toEqual(['detected', 'remediated']);
    expect(aws.buckets.get('rampart-demo-logs')?.rule).toMatchObject({
      ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: ARTIFACTS_KEY },
    });
    expect(await local.deps.findings.get(finding.id)).toMatchObject({ status: 'closed', outcome: 'remediated' });
    expect(result.calls).toEqual(['Notify detected', 'Plan', 'Apply', 'Verify', 'Notify outcome']);
  });

  it('applies a high-risk fix only after approval through a signed link', async () => {
    const { finding, input } = await start('apigateway-UpdateStage.throttle-over-constructed.json');

    const result = await local.run(
      input,
      clickLink('Approve', () => local),
    );

    expect(result.status).toBe('succeeded');
    expect(result.notifications.map((n) => n.kind)).toEqual(['detected', 'awaiting-approval', 'remediated']);
    expect(aws.stages.get(PROD)?.methodSettings['*/*']).toEqual({ throttlingRateLimit: 1000, throttlingBurstLimit: 500 });
    const record = await local.deps.findings.get(finding.id);
    expect(record).toMatchObject({ status: 'closed', outcome: 'remediated' });
    expect(record?.history.map((h) => h.event)).toEqual([
      'detected',
      'notified',
      'approval-requested',
      'approved',
      'applied',
      'remediated',
    ]);
    expect(record?.history.find((h) => h.event === 'approved')?.by).toBe('alice@example.com');
    expect((await local.deps.approvals.listPending()).length).toBe(0);
  });

  it('applies nothing when the resource changed between the plan and the approval', async () => {
    const { finding, input } = await start('apigateway-UpdateStage.throttle-over-constructed.json');
    const meanwhile: Human = async (approval) => {
      aws.stages.get(PROD)!.methodSettings['*/*'] = { throttlingRateLimit: 3000, throttlingBurstLimit: 200 };
      await clickLink('Approve', () => local)(approval);
    };

    const result = await local.run(input, meanwhile);

    expect(result.status).toBe('failed');
    expect(result.notifications.map((n) => n.kind)).toEqual(['detected', 'awaiting-approval', 'failed']);
    expect(result.notifications[2]?.reason).toContain('the resource changed since the fix was planned; nothing applied');
    expect(aws.apiGateway).not.toHaveReceivedCommand(UpdateStageCommand);
    expect(await local.deps.findings.get(finding.id)).toMatchObject({ status: 'closed', outcome: 'failed' });
  });

  it('closes as already compliant when someone fixed it while the approval waited', async () => {
    const { input } = await start('apigateway-UpdateStage.throttle-over-constructed.json');
    const fixedMeanwhile: Human = async (approval) => {
      aws.stages.get(PROD)!.methodSettings['*/*'] = { throttlingRateLimit: 100, throttlingBurstLimit: 50 };
      await clickLink('Approve', () => local)(approval);
    };

    const result = await local.run(input, fixedMeanwhile);

    expect(result.status).toBe('succeeded');
    expect(result.notifications.map((n) => n.kind)).toEqual(['detected', 'awaiting-approval', 'already-compliant']);
    expect(aws.apiGateway).not.toHaveReceivedCommand(UpdateStageCommand);
  });

  it('changes nothing when the fix is rejected, and says who rejected it', async () => {
    const { finding, input } = await start('apigateway-UpdateStage.throttle-over-constructed.json');

    const result = await local.run(
      input,
      clickLink('Reject', () => local),
    );

    expect(result.notifications.map((n) => n.kind)).toEqual(['detected', 'awaiting-approval', 'rejected']);
    expect(result.notifications[2]?.decidedBy).toBe('alice@example.com');
    expect(aws.apiGateway).not.toHaveReceivedCommand(UpdateStageCommand);
    expect(await local.deps.findings.get(finding.id)).toMatchObject({ status: 'closed', outcome: 'rejected' });
  });

  it('ends as expired when nobody decides before the timeout; nothing changes', async () => {
    const { finding, input } = await start('apigateway-UpdateStage.throttle-over-constructed.json');

    const result = await local.run(input, async () => undefined);

    expect(result.status).toBe('succeeded');
    expect(result.notifications.map((n) => n.kind)).toEqual(['detected', 'awaiting-approval', 'expired']);
    expect(aws.apiGateway).not.toHaveReceivedCommand(UpdateStageCommand);
    expect(await local.deps.findings.get(finding.id)).toMatchObject({ status: 'closed', outcome: 'expired' });
    const approvalId = await local.deps.approvals.idOf(finding.id, input.generation);
    expect(await local.deps.approvals.get(approvalId!)).toMatchObject({
      status: 'expired',
      note: 'no decision before the approval timeout',
    });
  });

  it('only says what it would fix in dry-run mode', async () => {
    const { finding, input } = await start('s3-DeleteBucketEncryption-constructed.json', 'dry-run');

    const result = await local.run(input);

    expect(result.notifications.map((n) => n.kind)).toEqual(['detected', 'dry-run']);
    expect(result.notifications[1]?.change?.operation).toBe('PutBucketEncryption');
    expect(aws.writes).toEqual([]);
    expect(await local.deps.findings.get(finding.id)).toMatchObject({ status: 'closed', outcome: 'dry-run' });
  });

  it('fails with a notification naming the permission when apply is denied', async () => {
    const { finding, input } = await start('s3-DeleteBucketEncryption-constructed.json');
    aws.s3.on(PutBucketEncryptionCommand).rejects(s3Error('AccessDenied', 403));

    const result = await local.run(input);

    expect(result.status).toBe('failed');
    expect(result.error).toBe('Rampart.RemediationFailed');
    expect(result.notifications.map((n) => n.kind)).toEqual(['detected', 'failed']);
    expect(result.notifications[1]?.reason).toContain('it needs s3:PutEncryptionConfiguration');
    expect(await local.deps.findings.get(finding.id)).toMatchObject({ status: 'closed', outcome: 'failed' });
  });

  it('retries a throttled apply and then succeeds', async () => {
    const { input } = await start('s3-DeleteBucketEncryption-constructed.json');
    aws.s3
      .on(PutBucketEncryptionCommand)
      .rejectsOnce(s3Error('SlowDown', 503))
      .callsFake((cmd: { Bucket: string; ServerSideEncryptionConfiguration: { Rules: unknown[] } }) => {
        aws.buckets.get(cmd.Bucket)!.rule = cmd.ServerSideEncryptionConfiguration.Rules[0] as never;
        return {};
      });

    const result = await local.run(input);

    expect(result.status).toBe('succeeded');
    expect(result.calls.filter((c) => c === 'Apply')).toHaveLength(2);
    expect(result.notifications.map((n) => n.kind)).toEqual(['detected', 'remediated']);
  });

  it('fails after the verify retries when the fix does not read back', async () => {
    const { input } = await start('s3-DeleteBucketEncryption-constructed.json');
    aws.s3.on(PutBucketEncryptionCommand).resolves({}); // accepted, nothing changes

    const result = await local.run(input);

    expect(result.status).toBe('failed');
    expect(result.calls.filter((c) => c === 'Verify')).toHaveLength(6); // first try + 5 retries
    expect(result.notifications.map((n) => n.kind)).toEqual(['detected', 'failed']);
    expect(result.notifications[1]?.reason).toMatch(/^Rampart.NotYetCompliant: /);
  });

  it('closes the finding as resource-gone when the bucket no longer exists', async () => {
    const { finding, input } = await start('s3-DeleteBucketEncryption-constructed.json');
    aws.buckets.delete('rampart-demo-logs');

    const result = await local.run(input);

    expect(result.status).toBe('succeeded');
    expect(result.notifications.map((n) => n.kind)).toEqual(['detected', 'resource-gone']);
    expect(await local.deps.findings.get(finding.id)).toMatchObject({ status: 'closed', outcome: 'resource-gone' });
  });

  describe('outcomes are what happened, and faults do not leave the finding open', () => {
    const snsError = (name: string, status: number) =>
      Object.assign(new Error(name), { name, $fault: status >= 500 ? 'server' : 'client', $metadata: { httpStatusCode: status } });

    it('records "applied" in the history only when the apply succeeded', async () => {
      const { finding, input } = await start('s3-DeleteBucketEncryption-constructed.json');
      aws.s3.on(PutBucketEncryptionCommand).rejects(s3Error('AccessDenied', 403));

      await local.run(input);

      expect((await local.deps.findings.get(finding.id))?.history.map((h) => h.event)).toEqual(['detected', 'notified', 'failed']);
    });

    it('reports remediated, and counts the fix, when DynamoDB fails after the fix was made', async () => {
      const { finding, input } = await start('s3-DeleteBucketEncryption-constructed.json');
      const findings = local.deps.findings;
      const update = findings.update.bind(findings);
      findings.update = async (id, change) => {
        if (change.entry.event === 'applied')
          throw Object.assign(new Error('Throughput exceeds the current capacity of your table'), {
            name: 'ProvisionedThroughputExceededException',
            $fault: 'client',
          });
        return update(id, change);
      };

      const result = await local.run(input);

      expect(result.status).toBe('succeeded');
      expect(await findings.get(finding.id)).toMatchObject({ status: 'closed', outcome: 'remediated' });
      expect(await local.deps.fixes.fixesSince(findingKey(finding), new Date('2024-06-03T15:00:00Z'))).toBe(1);
      expect(result.calls.filter((c) => c === 'Apply')).toHaveLength(1);
    });

    it('closes the finding and dead-letters the notification when SNS keeps failing (disabled KMS key)', async () => {
      const { finding, input } = await start('s3-DeleteBucketEncryption-constructed.json');
      local.sns.on(PublishCommand).rejects(snsError('KMSDisabledException', 400));

      const result = await local.run(input);

      expect(result.status).toBe('succeeded');
      expect(await local.deps.findings.get(finding.id)).toMatchObject({ status: 'closed', outcome: 'remediated' });
      expect(local.deadLetters.map((m) => [m.state, m.body.notification.kind, m.body.error.Error])).toEqual([
        ['Dead-letter detected notification', 'detected', 'Rampart.PublishFailed'],
        ['Dead-letter outcome notification', 'remediated', 'Rampart.PublishFailed'],
      ]);
      expect(local.deadLetters[1]?.body.error.Cause).toContain('KMSDisabledException');
      expect(local.deadLetters[1]?.queueUrl).toMatch(
        /^https:\/\/sqs\.us-east-1\.amazonaws\.com\/111122223333\/GuardNotificationsFailedNotifications/,
      );
      expect(result.calls.filter((c) => c === 'Notify outcome')).toHaveLength(5); // first try + 4 retries
    });

    it('retries a throttled publish and records the outcome once', async () => {
      const { finding, input } = await start('s3-DeleteBucketEncryption-constructed.json');
      let publishes = 0;
      local.sns.on(PublishCommand).callsFake(() => {
        if (++publishes === 2) throw snsError('ThrottledException', 400); // the outcome's first publish
        return { MessageId: `m-${publishes}` };
      });

      const result = await local.run(input);

      expect(result.status).toBe('succeeded');
      expect(result.notifications.map((n) => n.kind)).toEqual(['detected', 'remediated', 'remediated']); // the throttled call, then the retry
      expect((await local.deps.findings.get(finding.id))?.history.map((h) => h.event)).toEqual([
        'detected',
        'notified',
        'applied',
        'remediated',
      ]);
      expect(local.deadLetters).toEqual([]);
    });

    it('closes the finding when a DynamoDB throttle hits Notify once', async () => {
      const { finding, input } = await start('s3-DeleteBucketEncryption-constructed.json');
      const findings = local.deps.findings;
      const update = findings.update.bind(findings);
      let failed = false;
      findings.update = async (id, change) => {
        if (change.status === 'closed' && !failed) {
          failed = true;
          throw Object.assign(new Error('Throughput exceeds the current capacity'), {
            name: 'ProvisionedThroughputExceededException',
            $fault: 'client',
          });
        }
        return update(id, change);
      };

      const result = await local.run(input);

      expect(result.status).toBe('succeeded');
      expect(await findings.get(finding.id)).toMatchObject({ status: 'closed', outcome: 'remediated' });
    });

    it('retries AssociateWebACL while WAF does not see a brand-new stage yet, then fixes it', async () => {
      const { finding, input } = await start('wafv2-AssociateWebACL.other-acl-adapted.json');
      aws.wafv2
        .on(AssociateWebACLCommand)
        .rejectsOnce(new WAFNonexistentItemException({ message: 'no such item', $metadata: {} }))
        .callsFake((cmd: { WebACLArn: string; ResourceArn: string }) => {
          aws.stages.get(cmd.ResourceArn)!.webAclArn = cmd.WebACLArn;
          return {};
        });

      const result = await local.run(input);

      expect(result.calls.filter((c) => c === 'Apply')).toHaveLength(2);
      expect(await local.deps.findings.get(finding.id)).toMatchObject({ status: 'closed', outcome: 'remediated' });
      expect(aws.stages.get(PROD)?.webAclArn).toBe(RAMPART_GUARD_ACL);
    });

    it('fails (not resource-gone) when the web ACL to attach does not exist, while the stage does', async () => {
      const { finding, input } = await start('wafv2-AssociateWebACL.other-acl-adapted.json');
      aws.webAcls.delete(RAMPART_GUARD_ACL);

      const result = await local.run(input);

      expect(result.status).toBe('failed');
      expect(await local.deps.findings.get(finding.id)).toMatchObject({ status: 'closed', outcome: 'failed' });
      expect(result.notifications.at(-1)?.reason).toContain(`web ACL ${RAMPART_GUARD_ACL} does not exist`);
    });

    it('does not promise another try in a failure that is final', async () => {
      const { input } = await start('s3-DeleteBucketEncryption-constructed.json');
      aws.s3.on(PutBucketEncryptionCommand).rejects(s3Error('SlowDown', 503));

      const result = await local.run(input);

      expect(result.calls.filter((c) => c === 'Apply')).toHaveLength(4); // first try + 3 retries
      expect(result.notifications.at(-1)).toMatchObject({ kind: 'failed' });
      expect(result.notifications.at(-1)?.reason).toContain('was throttled (SlowDown');
      expect(result.notifications.at(-1)?.reason).not.toMatch(/tried again/);
    });
  });
});
