import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

export interface GuardAlarmsProps {
  topic: sns.ITopic;
  deadLetterQueue: sqs.Queue;
  stateMachine: sfn.StateMachine;
  sweepStateMachine: sfn.StateMachine;
  /** A hub: member accounts the organization sweep could not enter are alarmed. */
  organization?: boolean;
}

/** The guard's alarms: dead letters, failed executions and sweeps (tamper alerts: tamper-alerts.ts). */
export class GuardAlarms extends Construct {
  constructor(scope: Construct, id: string, props: GuardAlarmsProps) {
    super(scope, id);
    const notify = new actions.SnsAction(props.topic);
    const alarmOnAny = (id: string, alarmDescription: string, metric: cloudwatch.IMetric) =>
      new cloudwatch.Alarm(this, id, {
        alarmDescription,
        metric,
        threshold: 1,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }).addAlarmAction(notify);
    const period = Duration.minutes(5);
    alarmOnAny(
      'DeadLetters',
      'Rampart: events or invocations were dead-lettered (malformed events, failed detections)',
      props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period }),
    );
    alarmOnAny('FailedExecutions', 'Rampart: remediation workflows failed', props.stateMachine.metricFailed({ period }));
    // the detector and the sweep (Powertools metrics: namespace Rampart, dimension service)
    const guardMetric = (metricName: string, statistic: string, metricPeriod = period) =>
      new cloudwatch.Metric({ namespace: 'Rampart', metricName, dimensionsMap: { service: 'rampart' }, statistic, period: metricPeriod });
    alarmOnAny(
      'FindingsRecovered',
      'Rampart: open findings had no running workflow and were started again (a StartExecution failed, or a workflow ended without closing its finding)',
      guardMetric('FindingsRecovered', 'Sum'),
    );
    alarmOnAny(
      'WorkflowStartFailures',
      'Rampart: a finding could not be opened or its workflow started past retries; the next event or sweep tries again',
      guardMetric('WorkflowStartFailures', 'Sum'),
    );
    alarmOnAny(
      'StaleOpenFindings',
      'Rampart: findings open longer than the approval timeout + 1 hour (counted by each sweep)',
      guardMetric('StaleOpenFindings', 'Maximum', Duration.hours(1)),
    );
    alarmOnAny(
      'FailedSweeps',
      'Rampart: the periodic sweep failed; drift the events missed goes unseen until it runs again',
      props.sweepStateMachine.metricFailed({ period }),
    );
    if (props.organization)
      alarmOnAny(
        'UnreachableAccounts',
        "Rampart: the organization sweep could not assume a member account's read role (member stack missing, an SCP, the trust); that account goes unguarded",
        guardMetric('UnreachableAccounts', 'Sum', Duration.hours(1)),
      );
  }
}
