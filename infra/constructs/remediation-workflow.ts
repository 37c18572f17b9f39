import { CfnElement, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import type { ControlId } from '../../core/controls';
import type { Policy } from '../../core/policy';
import { detectorFor, remediatorFor } from '../../controls';
import { PUBLISH_FAILED, type WorkflowRetryError } from '../../remediators/failures';
import { grantPublish, grantSecretRead, grantTable, TABLE_ACTIONS } from '../grants';
import { acknowledgeScope, regionsOf, statementsOf } from '../permissions';
import { policySliceFor, type PolicyReader } from '../policy-slices';
import { RampartFunction } from './functions';

export interface RemediationWorkflowProps {
  policy: Policy;
  key: kms.IKey;
  table: dynamodb.ITable;
  topic: sns.ITopic;
  /** Where a notification that still fails after Notify's retries is kept (the finding still closes). */
  notificationDeadLetters: sqs.IQueue;
  approvalSecret: secretsmanager.ISecret;
  environment: Record<string, string>;
  /** Only the approval request needs the approval API (its URL, the signing key). */
  approvalEnvironment: Record<string, string>;
}

/** The names of the workflow's states: tests and the local runner bind handlers to them. */
export const STATES = {
  notifyDetected: 'Notify detected',
  plan: 'Plan',
  requestApproval: 'Request approval',
  apply: 'Apply',
  verify: 'Verify',
  notifyOutcome: 'Notify outcome',
  deadLetterDetected: 'Dead-letter detected notification',
  deadLetterOutcome: 'Dead-letter outcome notification',
} as const;

/**
 * One Step Functions standard workflow per finding (docs/architecture.md):
 * Notify detected → Plan → (nothing to do → outcome) | (dry run → "would fix") |
 * (risk high → Request approval, waiting for the task token until the approval timeout) →
 * Apply (retried on transient faults) → Verify (retried with backoff until consistent) → outcome.
 * Any error → "failed" → Fail. Each outcome is one notification: Notify records it on the
 * finding first, then publishes, and is retried with backoff; a notification that still fails
 * is sent to the notification dead-letter queue (alarmed) and the workflow goes on as it would.
 */
export class RemediationWorkflow extends Construct {
  readonly stateMachine: sfn.StateMachine;
  readonly functions: Record<'notify' | 'plan' | 'apply' | 'verify' | 'requestApproval', RampartFunction>;
  /** The role Apply runs with: the only one that changes resources (rules exclude its events). */
  readonly remediationRoleArn: string;

  constructor(scope: Construct, id: string, props: RemediationWorkflowProps) {
    super(scope, id);
    const { policy, key, table, topic } = props;
    const enabled = Object.keys(policy.controls) as ControlId[];
    const fn = (
      name: string,
      task: PolicyReader & keyof typeof TABLE_ACTIONS,
      description: string,
      timeout = Duration.seconds(30),
      extra: Record<string, string> = {},
    ) =>
      new RampartFunction(this, name, {
        entry: 'handlers/workflow.ts',
        handler: `${task}Handler`,
        description,
        key,
        environment: { ...props.environment, ...extra },
        policy: policySliceFor(policy, task),
        timeout,
      });
    this.functions = {
      notify: fn('NotifyFunction', 'notify', 'Rampart workflow: publish a notification and record it on the finding'),
      plan: fn('PlanFunction', 'plan', 'Rampart workflow: read the resource and plan the fix (read-only)'),
      apply: fn('ApplyFunction', 'apply', 'Rampart workflow: apply the planned change', Duration.seconds(60)),
      verify: fn('VerifyFunction', 'verify', 'Rampart workflow: re-read the resource after the fix (read-only)'),
      requestApproval: fn(
        'RequestApprovalFunction',
        'requestApproval',
        'Rampart workflow: record an approval request and send signed links',
        Duration.seconds(30),
        props.approvalEnvironment,
      ),
    };
    const f = this.functions;
    // the state machine's own sends (failed notifications) are granted by the SqsSendMessage task
    const regions = regionsOf(this, policy);
    for (const id of enabled) {
      const remediator = remediatorFor(id);
      // Apply reads too: it plans again before writing (an approval may come hours later)
      for (const s of statementsOf(detectorFor(id).readPermissions, regions))
        [f.plan, f.verify, f.apply].forEach((g) => g.addToRolePolicy(s));
      for (const s of statementsOf([...Object.values(remediator.permissions), ...(remediator.applyReadPermissions ?? [])], regions))
        f.apply.addToRolePolicy(s);
    }
    grantTable(f.plan, table, TABLE_ACTIONS.plan);
    grantTable(f.apply, table, TABLE_ACTIONS.apply);
    grantTable(f.verify, table, TABLE_ACTIONS.verify);
    grantTable(f.notify, table, TABLE_ACTIONS.notify);
    grantTable(f.requestApproval, table, TABLE_ACTIONS.requestApproval);
    grantPublish(f.notify, topic, key);
    grantPublish(f.requestApproval, topic, key);
    grantSecretRead(f.requestApproval, props.approvalSecret.secretArn, key);
    for (const id of enabled) acknowledgeScope(id, [f.plan, f.verify, f.apply], regions);
    this.remediationRoleArn = f.apply.role!.roleArn;

    const definition = this.definition(policy, props.notificationDeadLetters);
    const logGroup = new logs.LogGroup(this, 'ExecutionLogs', {
      encryptionKey: key,
      retention: logs.RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      definitionBody: sfn.DefinitionBody.fromChainable(definition),
      stateMachineType: sfn.StateMachineType.STANDARD,
      tracingEnabled: true,
      logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
      comment: 'Rampart: fix one finding, with approval for risky fixes',
    });
    const role = Validations.of(this.stateMachine.role);
    role.acknowledge({
      id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
      reason: 'CloudWatch log delivery and X-Ray APIs take no resource-level permissions',
    });
    for (const task of Object.values(this.functions)) {
      const logicalId = Stack.of(this).getLogicalId(task.node.defaultChild as CfnElement);
      role.acknowledge({
        id: `AwsSolutions::AwsSolutions-IAM5[Resource::<${logicalId}.Arn>:*]`,
        reason: 'Invoking a task function of this workflow, any of its versions',
      });
    }
  }

  private definition(policy: Policy, notificationDeadLetters: sqs.IQueue): sfn.IChainable {
    const f = this.functions;
    const $ = sfn.JsonPath;
    const invoke = (name: string, fn: RampartFunction, payload: Record<string, unknown>, resultPath: string) =>
      new tasks.LambdaInvoke(this, name, {
        lambdaFunction: fn,
        payload: sfn.TaskInput.fromObject(payload),
        payloadResponseOnly: true,
        retryOnServiceExceptions: true,
        resultPath,
      });
    const notifyPayload = {
      finding: $.objectAt('$.finding'),
      generation: $.numberAt('$.generation'),
      notification: $.objectAt('$.notification'),
    };
    const changePayload = { finding: $.objectAt('$.finding'), generation: $.numberAt('$.generation'), change: $.objectAt('$.plan.change') };
    const note = (name: string, parameters: Record<string, unknown>) =>
      new sfn.Pass(this, name, { parameters, resultPath: '$.notification' });

    const failed = new sfn.Fail(this, 'Remediation failed', { error: 'Rampart.RemediationFailed', cause: 'see the failure notification' });
    const done = new sfn.Succeed(this, 'Done');
    const retryNotify = (task: tasks.LambdaInvoke) =>
      // throttled topic, KMS key throttling, DynamoDB throttles: ~2+4+8+16 s of backoff
      task.addRetry({
        errors: [sfn.Errors.ALL],
        interval: Duration.seconds(2),
        maxAttempts: 4,
        backoffRate: 2,
        jitterStrategy: sfn.JitterType.FULL,
      });
    /** Keeps a notification that could not be sent, with its error; a queue that refuses it too fails the execution (alarmed). */
    const deadLetter = (name: string) =>
      new tasks.SqsSendMessage(this, name, {
        queue: notificationDeadLetters,
        messageBody: sfn.TaskInput.fromObject({
          finding: $.objectAt('$.finding'),
          generation: $.numberAt('$.generation'),
          notification: $.objectAt('$.notification'),
          error: $.objectAt('$.notifyError'),
          execution: $.stringAt('$$.Execution.Id'),
        }),
        resultPath: $.DISCARD,
      }).addRetry({ errors: [sfn.Errors.ALL], interval: Duration.seconds(2), maxAttempts: 3, backoffRate: 2 });
    const endedInFailure = new sfn.Choice(this, 'Ended in failure?')
      .when(sfn.Condition.stringEquals('$.notification.kind', 'failed'), failed)
      .otherwise(done);
    const notifyOutcome = retryNotify(invoke(STATES.notifyOutcome, f.notify, notifyPayload, $.DISCARD));
    // published or not, the outcome was recorded: end as the outcome says. Not recorded: fail
    // (alarmed; the finding may still be open, and the detector's recovery starts it again)
    const notRecorded = new sfn.Fail(this, 'Outcome not recorded', {
      error: 'Rampart.OutcomeNotRecorded',
      cause: 'the outcome could not be recorded on the finding; see the failed-notification queue',
    });
    notifyOutcome.addCatch(
      deadLetter(STATES.deadLetterOutcome).next(
        new sfn.Choice(this, 'Outcome recorded?')
          .when(sfn.Condition.stringEquals('$.notifyError.Error', PUBLISH_FAILED), endedInFailure)
          .otherwise(notRecorded),
      ),
      { errors: [sfn.Errors.ALL], resultPath: '$.notifyError' },
    );
    notifyOutcome.next(endedInFailure);
    const failure = note('Failure', { kind: 'failed', 'error.$': '$.error' }).next(notifyOutcome);
    const catchAll = <T extends sfn.TaskStateBase>(task: T): T => {
      task.addCatch(failure, { errors: [sfn.Errors.ALL], resultPath: '$.error' });
      return task;
    };
    const transient = ['Rampart.Throttled', 'Rampart.Transient'] satisfies WorkflowRetryError[];

    const plan = invoke(
      STATES.plan,
      f.plan,
      { finding: $.objectAt('$.finding'), mode: $.stringAt('$.mode'), generation: $.numberAt('$.generation') },
      '$.plan',
    );
    plan.addRetry({
      errors: transient,
      interval: Duration.seconds(2),
      maxAttempts: 3,
      backoffRate: 2,
      jitterStrategy: sfn.JitterType.FULL,
    });
    catchAll(plan);
    const apply = invoke(STATES.apply, f.apply, changePayload, '$.apply');
    // each attempt plans again first: a retry after a write that went through finds nothing to do
    apply.addRetry({
      errors: transient,
      interval: Duration.seconds(2),
      maxAttempts: 3,
      backoffRate: 2,
      jitterStrategy: sfn.JitterType.FULL,
    });
    // WAF sees a brand-new stage seconds to minutes after API Gateway created it
    apply.addRetry({
      errors: ['Rampart.NotYetVisible' satisfies WorkflowRetryError],
      interval: Duration.seconds(10),
      maxAttempts: 4,
      backoffRate: 2,
    });
    catchAll(apply);
    const verify = invoke(STATES.verify, f.verify, changePayload, '$.verify');
    // associations and settings take seconds to minutes to read back: re-read with backoff
    verify.addRetry({
      errors: ['Rampart.NotYetCompliant' satisfies WorkflowRetryError],
      interval: Duration.seconds(5),
      maxAttempts: 5,
      backoffRate: 2,
    });
    verify.addRetry({
      errors: transient,
      interval: Duration.seconds(2),
      maxAttempts: 3,
      backoffRate: 2,
      jitterStrategy: sfn.JitterType.FULL,
    });
    catchAll(verify);
    const requestApproval = new tasks.LambdaInvoke(this, STATES.requestApproval, {
      lambdaFunction: f.requestApproval,
      integrationPattern: sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
      payload: sfn.TaskInput.fromObject({ ...changePayload, taskToken: $.taskToken }),
      resultPath: '$.approval',
      taskTimeout: sfn.Timeout.duration(Duration.seconds(Math.round(policy.approvals.timeoutHours * 3600))),
    });
    requestApproval.addCatch(
      note('Expired', { kind: 'expired', reason: 'no decision before the approval timeout; nothing changed' }).next(notifyOutcome),
      {
        errors: [sfn.Errors.TIMEOUT],
        resultPath: '$.error',
      },
    );
    catchAll(requestApproval);

    const notifyDetected = retryNotify(invoke(STATES.notifyDetected, f.notify, notifyPayload, $.DISCARD));
    notifyDetected.addCatch(deadLetter(STATES.deadLetterDetected).next(plan), { errors: [sfn.Errors.ALL], resultPath: '$.notifyError' });
    const detected = note('Detected', { kind: 'detected' }).next(notifyDetected);
    const verified = note('Verified', { 'kind.$': '$.verify.outcome', 'reason.$': '$.verify.reason', 'change.$': '$.plan.change' }).next(
      notifyOutcome,
    );
    const applyOutcome = note('Apply outcome', {
      'kind.$': '$.apply.failure.outcome',
      'reason.$': '$.apply.failure.reason',
      'change.$': '$.plan.change',
    }).next(notifyOutcome);
    apply.next(
      new sfn.Choice(this, 'Applied?').when(sfn.Condition.isPresent('$.apply.failure'), applyOutcome).otherwise(verify.next(verified)),
    );
    const rejected = note('Rejected', { kind: 'rejected', 'decidedBy.$': '$.approval.by', 'change.$': '$.plan.change' }).next(
      notifyOutcome,
    );
    requestApproval.next(
      new sfn.Choice(this, 'Approved?').when(sfn.Condition.stringEquals('$.approval.decision', 'approve'), apply).otherwise(rejected),
    );

    return detected.next(plan).next(
      new sfn.Choice(this, 'Anything to change?')
        .when(
          sfn.Condition.isPresent('$.plan.done'),
          note('No change', { 'kind.$': '$.plan.done.outcome', 'reason.$': '$.plan.done.reason' }).next(notifyOutcome),
        )
        .when(
          sfn.Condition.stringEquals('$.mode', 'dry-run'),
          note('Would fix', { kind: 'dry-run', reason: 'dry-run mode: nothing changed', 'change.$': '$.plan.change' }).next(notifyOutcome),
        )
        .when(sfn.Condition.stringEquals('$.plan.risk', 'high'), requestApproval)
        .otherwise(apply),
    );
  }
}
