import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

export interface GuardAlarmsProps {
  topic: sns.ITopic;
  deadLetterQueue: sqs.Queue;
  stateMachine: sfn.StateMachine;
  sweepStateMachine: sfn.StateMachine;
  /** The guard's own resources a tamper alert watches. */
  functions: lambda.IFunction[];
  rules: events.IRule[];
}

/**
 * The guard watching itself: alarms on dead letters and failed executions, and a high-severity
 * alert when someone disables or deletes its rules, stops its executions, or changes its
 * functions or roles.
 */
export class GuardAlarms extends Construct {
  constructor(scope: Construct, id: string, props: GuardAlarmsProps) {
    super(scope, id);
    const notify = new actions.SnsAction(props.topic);
    const alarmOnAny = (id: string, alarmDescription: string, metric: cloudwatch.IMetric) =>
      new cloudwatch.Alarm(this, id, { alarmDescription, metric, threshold: 1, evaluationPeriods: 1, treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING }).addAlarmAction(notify);
    const period = Duration.minutes(5);
    alarmOnAny('DeadLetters', 'Rampart: events or invocations were dead-lettered (malformed events, failed detections)', props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period }));
    alarmOnAny('FailedExecutions', 'Rampart: remediation workflows failed', props.stateMachine.metricFailed({ period }));
    // the detector and the sweep (Powertools metrics: namespace Rampart, dimension service)
    const guardMetric = (metricName: string, statistic: string, metricPeriod = period) =>
      new cloudwatch.Metric({ namespace: 'Rampart', metricName, dimensionsMap: { service: 'rampart' }, statistic, period: metricPeriod });
    alarmOnAny('FindingsRecovered', 'Rampart: open findings had no running workflow and were started again (a StartExecution failed, or a workflow ended without closing its finding)', guardMetric('FindingsRecovered', 'Sum'));
    alarmOnAny('WorkflowStartFailures', 'Rampart: a finding could not be opened or its workflow started past retries; the next event or sweep tries again', guardMetric('WorkflowStartFailures', 'Sum'));
    alarmOnAny('StaleOpenFindings', 'Rampart: findings open longer than the approval timeout + 1 hour (counted by each sweep)', guardMetric('StaleOpenFindings', 'Maximum', Duration.hours(1)));
    alarmOnAny('FailedSweeps', 'Rampart: the periodic sweep failed; drift the events missed goes unseen until it runs again', props.sweepStateMachine.metricFailed({ period }));

    const machines = [props.stateMachine, props.sweepStateMachine];
    const tamper = new events.Rule(this, 'TamperAlert', {
      description: "Rampart: someone changed the guard's rules, executions, functions or roles",
      eventPattern: {
        detailType: ['AWS API Call via CloudTrail'],
        detail: {
          $or: [
            { eventSource: ['events.amazonaws.com'], eventName: ['DisableRule', 'DeleteRule', 'RemoveTargets', 'PutRule'], requestParameters: { name: props.rules.map((r) => r.ruleName) } },
            {
              eventSource: ['states.amazonaws.com'],
              eventName: ['StopExecution'],
              requestParameters: {
                executionArn: machines.map((m) => ({ prefix: Stack.of(this).formatArn({ service: 'states', resource: 'execution', resourceName: `${m.stateMachineName}:`, arnFormat: ArnFormat.COLON_RESOURCE_NAME }) })),
              },
            },
            { eventSource: ['states.amazonaws.com'], eventName: ['DeleteStateMachine', 'UpdateStateMachine'], requestParameters: { stateMachineArn: machines.map((m) => m.stateMachineArn) } },
            {
              eventSource: ['lambda.amazonaws.com'],
              eventName: [{ prefix: 'UpdateFunctionCode' }, { prefix: 'UpdateFunctionConfiguration' }, { prefix: 'DeleteFunction' }, { prefix: 'PutFunctionConcurrency' }],
              requestParameters: { functionName: props.functions.flatMap((f) => [f.functionName, f.functionArn]) },
            },
            {
              eventSource: ['iam.amazonaws.com'],
              eventName: ['PutRolePolicy', 'DeleteRolePolicy', 'AttachRolePolicy', 'DetachRolePolicy', 'UpdateAssumeRolePolicy', 'DeleteRole', 'PutRolePermissionsBoundary'],
              requestParameters: { roleName: props.functions.flatMap((f) => (f.role ? [f.role.roleName] : [])) },
            },
          ],
        } as never,
      },
    });
    tamper.addTarget(
      new targets.SnsTopic(props.topic, {
        message: events.RuleTargetInput.fromText(
          `[Rampart] HIGH: guard tampering: ${events.EventField.fromPath('$.detail.eventName')} by ${events.EventField.fromPath('$.detail.userIdentity.arn')} at ${events.EventField.time}`,
        ),
        deadLetterQueue: props.deadLetterQueue,
      }),
    );
  }
}
