import { Aws, Duration, Stack, Token, Validations, type CfnElement } from 'aws-cdk-lib';
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
import { DEFAULT_ORG_SWEEP } from '../../core/policy';
import type { OrganizationTarget } from '../member-access';
import { RampartFunction } from './functions';

/** Lambda gives a function one vCPU at 1,769 MB (AWS Lambda Developer Guide, "Memory and computing power"). */
export const SWEEP_MEMORY_MB = 1769;

export interface PeriodicSweepProps {
  policy: Policy;
  key: kms.IKey;
  table: dynamodb.ITable;
  workflow: sfn.StateMachine;
  deadLetterQueue: sqs.IQueue;
  environment: Record<string, string>;
  /** In a hub: the organization sweep runs beside the guard's own (a Distributed Map over the member accounts). */
  organization?: OrganizationTarget;
}

/**
 * The periodic sweep: an EventBridge Scheduler schedule (`sweep.schedule`, and one per control
 * in `sweep.schedules`) starts a state machine that sweeps the controls in parallel (Map), each
 * in pages: a page stops a minute before its Lambda would time out and the next page resumes
 * after the last resource it took, so a large account is split, never cut short.
 */
export class PeriodicSweep extends Construct {
  readonly function: RampartFunction;
  /** In a hub: lists the member accounts the organization sweep takes. */
  readonly accountsFunction?: RampartFunction;
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
      // the sweep is CPU-bound, not latency-bound (bench `sweep`: milliseconds of CPU per resource,
      // mostly the SDK's signing, endpoint rules and XML): 1,769 MB is one full vCPU, what the one
      // Node.js thread can use; less is slower for the same GB-seconds, more buys a vCPU it cannot use
      memorySize: SWEEP_MEMORY_MB,
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

    // the guard's own account: each control in pages (the first page of a control is also its watchdog)
    const map = new sfn.Map(this, 'Each control', {
      itemsPath: '$.controls',
      maxConcurrency: 3,
      itemSelector: { 'control.$': '$$.Map.Item.Value', 'sweepId.$': '$$.Execution.Name' },
    });
    map.itemProcessor(this.pages('', false));
    let definition: sfn.IChainable = map;
    if (props.organization) {
      this.accountsFunction = this.organizationAccounts(props);
      definition = new sfn.Parallel(this, 'The guard and the organization', {
        // page results stay in the execution history; the output would outgrow 256 KB at scale
        resultPath: sfn.JsonPath.DISCARD,
      })
        .branch(map)
        .branch(this.organizationSweep(props.policy, this.accountsFunction));
    }
    const logGroup = new logs.LogGroup(this, 'ExecutionLogs', {
      encryptionKey: props.key,
      retention: logs.RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      definitionBody: sfn.DefinitionBody.fromChainable(definition),
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
    if (this.accountsFunction) this.acknowledgeOrganizationSweep(this.accountsFunction);

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

  /**
   * A control's pages: the sweep function called again after the last resource it took until
   * it says it is done. `prefix` keeps state names apart (one state machine, two loops).
   */
  private pages(prefix: string, inAccount: boolean): sfn.IChainable {
    // two tasks, not one with `startAfter: null`: CDK drops null values from a payload, and a
    // `$.startAfter` that is not there fails the state at run time
    const page = (id: string, next: boolean) =>
      new tasks.LambdaInvoke(this, `${prefix}${id}`, {
        lambdaFunction: this.function,
        payloadResponseOnly: true,
        retryOnServiceExceptions: true,
        payload: sfn.TaskInput.fromObject({
          control: sfn.JsonPath.stringAt('$.control'),
          sweepId: sfn.JsonPath.stringAt('$.sweepId'),
          ...(next ? { startAfter: sfn.JsonPath.stringAt('$.startAfter') } : {}),
          ...(inAccount ? { account: sfn.JsonPath.stringAt('$.account'), regions: sfn.JsonPath.listAt('$.regions') } : {}),
        }),
      });
    const first = page('Sweep page', false);
    const next = page('Next sweep page', true);
    const more = new sfn.Choice(this, `${prefix}More pages?`)
      .when(sfn.Condition.isPresent('$.startAfter'), next)
      .otherwise(new sfn.Succeed(this, `${prefix}Control swept`));
    next.next(more);
    return first.next(more);
  }

  /** The function that lists the organization's accounts in scope (Organizations reads only). */
  private organizationAccounts(props: PeriodicSweepProps): RampartFunction {
    const fn = new RampartFunction(this, 'AccountsFunction', {
      entry: 'handlers/org-accounts.ts',
      handler: 'handler',
      description: 'Rampart organization sweep: the member accounts in scope (Organizations ListAccounts, filtered by the policy)',
      key: props.key,
      environment: props.environment,
      policy: policySliceFor(props.policy, 'sweep'),
      timeout: Duration.minutes(5),
      actionsOnAnyResource: ['organizations:ListAccounts'],
    });
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['organizations:ListAccounts'], resources: ['*'] }));
    // the OU filter walks the tree below the policy's OUs: roots and OUs of this organization only
    const org = props.organization!.organizationId;
    const below = ['ou', 'root'].map((kind) => `arn:${Aws.PARTITION}:organizations::*:${kind}/${org}/*`);
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['organizations:ListAccountsForParent', 'organizations:ListOrganizationalUnitsForParent'],
        resources: below,
      }),
    );
    for (const r of below)
      Validations.of(fn.role!).acknowledge({
        id: `AwsSolutions::AwsSolutions-IAM5[Resource::${r.replace(Aws.PARTITION, '<AWS::Partition>')}]`,
        reason:
          'The accounts below the policy OUs (ListAccountsForParent, ListOrganizationalUnitsForParent only), in this organization; the management account id is not known here',
      });
    return fn;
  }

  /**
   * The organization sweep: the accounts in scope, then a Distributed Map with one child
   * execution per account (Standard: a page may take 15 minutes), each sweeping the controls of
   * that account in its regions through the member read role. `maxConcurrency` accounts at once;
   * an account whose role cannot be assumed is reported by its pages and succeeds, so the
   * tolerated failures are the accounts whose sweep truly failed.
   */
  private organizationSweep(policy: Policy, accountsFunction: RampartFunction): sfn.IChainable {
    const orgSweep = policy.organization?.sweep ?? DEFAULT_ORG_SWEEP;
    const listAccounts = new tasks.LambdaInvoke(this, 'Accounts in scope', {
      lambdaFunction: accountsFunction,
      payloadResponseOnly: true,
      retryOnServiceExceptions: true,
      payload: sfn.TaskInput.fromObject({
        controls: sfn.JsonPath.listAt('$.controls'),
        sweepId: sfn.JsonPath.stringAt('$$.Execution.Name'),
      }),
    });
    const controlsOfAccount = new sfn.Map(this, 'Each control of the account', {
      itemsPath: '$.controls',
      maxConcurrency: 3,
      itemSelector: {
        'control.$': '$$.Map.Item.Value',
        'account.$': '$.account',
        'regions.$': '$.regions',
        'sweepId.$': '$.sweepId',
      },
      resultPath: sfn.JsonPath.DISCARD,
    });
    controlsOfAccount.itemProcessor(this.pages('Account ', true));
    const eachAccount = new sfn.DistributedMap(this, 'Each account', {
      itemsPath: '$.accounts',
      itemSelector: {
        'account.$': '$$.Map.Item.Value',
        'regions.$': '$.regions',
        'controls.$': '$.controls',
        'sweepId.$': '$.sweepId',
      },
      maxConcurrency: orgSweep.maxConcurrency,
      toleratedFailurePercentage: orgSweep.toleratedFailurePercentage,
      mapExecutionType: sfn.StateMachineType.STANDARD,
      label: 'EachAccount',
      resultPath: sfn.JsonPath.DISCARD,
    });
    // a child's output is kept by the map: nothing of it, so 10,000 accounts stay within 256 KB
    eachAccount.itemProcessor(controlsOfAccount.next(new sfn.Pass(this, 'Account swept', { parameters: {} })));
    return listAccounts.next(eachAccount);
  }

  /** The grants CDK writes for the organization branch: invoking the accounts function, and the Distributed Map's child executions. */
  private acknowledgeOrganizationSweep(accountsFunction: RampartFunction): void {
    const logicalId = (c: Construct) => Stack.of(this).getLogicalId(c.node.defaultChild as CfnElement);
    Validations.of(this.stateMachine.role).acknowledge({
      id: `AwsSolutions::AwsSolutions-IAM5[Resource::<${logicalId(accountsFunction)}.Arn>:*]`,
      reason: 'Invoking the organization accounts function, any of its versions',
    });
    // the executions of this state machine only: a name CloudFormation knows at deploy time
    const stack = Stack.of(this);
    const named = (value: string, pseudo: string) => (Token.isUnresolved(value) ? `<AWS::${pseudo}>` : value);
    const executions = `arn:<AWS::Partition>:states:${named(stack.region, 'Region')}:${named(stack.account, 'AccountId')}:execution:{"Fn::Select":[6,{"Fn::Split":[":",{"Ref":"${logicalId(this.stateMachine)}"}]}]}`;
    for (const resource of [`${executions}:*`, `${executions}/EachAccount:*`])
      Validations.of(this.stateMachine).acknowledge({
        id: `AwsSolutions::AwsSolutions-IAM5[Resource::${resource}]`,
        reason:
          "The Distributed Map's child executions of this state machine (one per member account): describe and stop them, names known only at run time",
      });
  }
}
