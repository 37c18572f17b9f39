import { Aws, Duration, Stack, Validations, type CfnElement } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as schedulerTargets from 'aws-cdk-lib/aws-scheduler-targets';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { RemovalPolicy } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import type { ControlId } from '../../core/controls';
import type { Policy } from '../../core/policy';
import { detectorFor } from '../../controls';
import { grantExecutionStatus, grantTable, TABLE_ACTIONS } from '../grants';
import { acknowledgePattern, acknowledgeScope, regionsOf, statementsOf } from '../permissions';
import { policySliceFor } from '../policy-slices';
import { RampartFunction } from './functions';

export interface PeriodicSweepProps {
  policy: Policy;
  key: kms.IKey;
  table: dynamodb.ITable;
  workflow: sfn.StateMachine;
  deadLetterQueue: sqs.IQueue;
  environment: Record<string, string>;
}

/**
 * The periodic sweep: an EventBridge Scheduler schedule (`sweep.schedule`, and one per control
 * in `sweep.schedules`) starts a state machine that sweeps the controls in parallel (Map), each
 * in pages: a page stops a minute before its Lambda would time out and the next page resumes
 * after the last resource it took, so a large account is split, never cut short.
 */
export class PeriodicSweep extends Construct {
  readonly function: RampartFunction;
  readonly stateMachine: sfn.StateMachine;
  readonly schedule: scheduler.Schedule;

  constructor(scope: Construct, id: string, props: PeriodicSweepProps) {
    super(scope, id);
    const controls = Object.keys(props.policy.controls) as ControlId[];
    const listAll = controls.flatMap((c) =>
      detectorFor(c)
        .listPermissions.filter((p) => p.resources.includes('*'))
        .flatMap((p) => p.actions),
    );
    this.function = new RampartFunction(this, 'SweepFunction', {
      entry: 'handlers/sweep.ts',
      handler: 'handler',
      description: 'Rampart sweep: list, read and judge every resource of a control, one page at a time',
      key: props.key,
      environment: props.environment,
      policy: policySliceFor(props.policy, 'sweep'),
      timeout: Duration.minutes(15),
      memorySize: 512,
      actionsOnAnyResource: listAll,
    });
    const regions = regionsOf(this, props.policy);
    for (const control of controls) {
      const listing = detectorFor(control).listPermissions;
      for (const s of [...statementsOf(listing, regions), ...statementsOf(detectorFor(control).readPermissions, regions)])
        this.function.addToRolePolicy(s);
      acknowledgeScope(control, [this.function], regions);
      for (const pattern of listing.flatMap((p) => p.resources).filter((r) => r !== '*')) {
        acknowledgePattern(
          this.function.role!,
          pattern,
          regions,
          `The sweep lists every resource of ${control} in the account (${listing.flatMap((p) => p.actions).join(', ')} only)`,
        );
      }
    }
    grantTable(this.function, props.table, TABLE_ACTIONS.sweep);
    props.workflow.grantStartExecution(this.function);
    grantExecutionStatus(this.function, props.workflow);

    const page = new tasks.LambdaInvoke(this, 'Sweep page', {
      lambdaFunction: this.function,
      payloadResponseOnly: true,
      retryOnServiceExceptions: true,
      payload: sfn.TaskInput.fromObject({
        control: sfn.JsonPath.stringAt('$.control'),
        sweepId: sfn.JsonPath.stringAt('$.sweepId'),
        startAfter: sfn.JsonPath.stringAt('$.startAfter'),
      }),
    });
    const firstPage = new sfn.Pass(this, 'First page', {
      parameters: { 'control.$': '$.control', 'sweepId.$': '$.sweepId', startAfter: null },
    });
    const more = new sfn.Choice(this, 'More pages?')
      .when(sfn.Condition.isPresent('$.startAfter'), page)
      .otherwise(new sfn.Succeed(this, 'Control swept'));
    const map = new sfn.Map(this, 'Each control', {
      itemsPath: '$.controls',
      maxConcurrency: 3,
      itemSelector: { 'control.$': '$$.Map.Item.Value', 'sweepId.$': '$$.Execution.Name' },
    });
    map.itemProcessor(firstPage.next(page).next(more));
    const logGroup = new logs.LogGroup(this, 'ExecutionLogs', {
      encryptionKey: props.key,
      retention: logs.RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      definitionBody: sfn.DefinitionBody.fromChainable(map),
      tracingEnabled: true,
      logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
      comment: 'Rampart: sweep every resource of every control',
    });
    const role = Validations.of(this.stateMachine.role);
    role.acknowledge({
      id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
      reason: 'CloudWatch log delivery and X-Ray APIs take no resource-level permissions',
    });
    role.acknowledge({
      id: `AwsSolutions::AwsSolutions-IAM5[Resource::<${Stack.of(this).getLogicalId(this.function.node.defaultChild as CfnElement)}.Arn>:*]`,
      reason: 'Invoking the sweep function, any of its versions',
    });

    // a role of the sweep's own, not the stack-wide singleton CDK would make: the guard's
    // tamper alerts watch the roles below the guard
    const scheduleRole = new iam.Role(this, 'ScheduleRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
      }),
      description: 'Rampart: starts the periodic sweep',
    });
    this.schedule = new scheduler.Schedule(this, 'Schedule', {
      description: 'Rampart: periodic sweep',
      schedule: scheduler.ScheduleExpression.expression(props.policy.sweep.schedule),
      target: new schedulerTargets.StepFunctionsStartExecution(this.stateMachine, {
        input: scheduler.ScheduleTargetInput.fromObject({ controls }),
        deadLetterQueue: props.deadLetterQueue,
        retryAttempts: 3,
        role: scheduleRole,
      }),
    });
    // controls the policy sweeps more often: a schedule each, the same state machine, that control alone
    for (const [control, expression] of Object.entries(props.policy.sweep.schedules)) {
      new scheduler.Schedule(this, `Schedule-${control}`, {
        description: `Rampart: sweep of ${control}`,
        schedule: scheduler.ScheduleExpression.expression(expression),
        target: new schedulerTargets.StepFunctionsStartExecution(this.stateMachine, {
          input: scheduler.ScheduleTargetInput.fromObject({ controls: [control] }),
          deadLetterQueue: props.deadLetterQueue,
          retryAttempts: 3,
          role: scheduleRole,
        }),
      });
    }
  }
}
