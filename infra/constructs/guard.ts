import { Aspects, Aws, CfnOutput, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as cloudtrail from 'aws-cdk-lib/aws-cloudtrail';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { Policy } from '../../core/policy';
import { rampartVersion } from '../../core/version';
import { NarrowWildcardGrants } from '../least-privilege';
import { grantListParents, grantMemberRole, type OrganizationTarget } from '../member-access';
import { HubBus } from './hub-bus';
import { ApprovalApi } from './approval-api';
import { DetectorRules } from './detector-rules';
import { GuardTable } from './guard-table';
import { GuardAlarms } from './guard-alarms';
import { Notifications } from './notifications';
import { PeriodicSweep } from './periodic-sweep';
import { RemediationWorkflow } from './remediation-workflow';
import { TamperAlerts } from './tamper-alerts';

export interface RampartGuardProps {
  /** The validated policy (`loadPolicyFile`). */
  policy: Policy;
  /**
   * Create a multi-region CloudTrail trail (log file validation, encrypted bucket). "AWS API
   * Call via CloudTrail" events only flow when a trail exists; accounts that have one (or an
   * organization trail) leave this off. Default false.
   */
  createTrail?: boolean;
  /**
   * A us-east-1 stack forwards IAM events to this region (`-c iamAlerts=true`, infra/app.ts):
   * no synth warning about role changes going unseen. Default false.
   */
  iamEventsForwarded?: boolean;
  /** What happens to the findings table when the stack goes. Default RETAIN. */
  tableRemovalPolicy?: RemovalPolicy;
  /**
   * The hub of an organization (`-c mode=hub`): the detector rules sit on an organization bus
   * that the member stacks forward to, and the functions act in member accounts through the
   * member roles. Default: the guard of its own account.
   */
  hub?: OrganizationTarget;
}

/**
 * The whole guard, for your own CDK app: rules → detectors → findings → workflow → fixes,
 * approvals and notifications, with its own alarms and tamper alerts.
 *
 * @example new RampartGuard(stack, 'Guard', { policy: loadPolicyFile('rampart.config.yaml') })
 */
export class RampartGuard extends Construct {
  readonly key: kms.Key;
  readonly guardTable: GuardTable;
  readonly notifications: Notifications;
  readonly workflow: RemediationWorkflow;
  readonly approvals: ApprovalApi;
  readonly detectors: DetectorRules;
  readonly deadLetterQueue: sqs.Queue;
  readonly sweep: PeriodicSweep;
  readonly tamperAlerts: TamperAlerts;
  /** The organization bus, in a hub. */
  readonly hubBus?: HubBus;

  constructor(scope: Construct, id: string, props: RampartGuardProps) {
    super(scope, id);
    const { policy } = props;
    this.key = new kms.Key(this, 'Key', {
      enableKeyRotation: true,
      description: 'Rampart: findings, topic, queues, logs',
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.allowServicesOnKey();

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetters', {
      // SSE-SQS: EventBridge, SNS and Lambda can write without a KMS key grant each
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    const approvalSecret = new secretsmanager.Secret(this, 'ApprovalSigningKey', {
      // a name of its own: callers pass names, which the tamper alert must know
      secretName: `${Stack.of(this).stackName}/rampart/approval-signing-key`,
      description: 'Rampart: HMAC key that signs approval links',
      encryptionKey: this.key,
      generateSecretString: { passwordLength: 64, excludePunctuation: true },
    });
    Validations.of(approvalSecret).acknowledge({
      id: 'AwsSolutions::AwsSolutions-SMG4',
      reason:
        'An HMAC key for approval links, not a credential of another service: rotating it invalidates the links in flight, so it is rotated by hand (put-secret-value) between approvals',
    });

    // construct id kept from when it was `FindingsStore`: another id would replace a deployed table
    this.guardTable = new GuardTable(this, 'Findings', { removalPolicy: props.tableRemovalPolicy });
    this.notifications = new Notifications(this, 'Notifications', { policy, key: this.key, deadLetterQueue: this.deadLetterQueue });

    const env: Record<string, string> = {
      RAMPART_TABLE: this.guardTable.table.tableName,
      // the guard's own account: the sweep's listings and the fixes act in it (never read from a function's ARN)
      RAMPART_ACCOUNT: Stack.of(this).account,
      RAMPART_TOPIC_ARN: this.notifications.topic.topicArn,
      RAMPART_RETENTION_DAYS: String(policy.findings.retentionDays),
      // a hub acts in member accounts through their roles (handlers/deps.ts)
      ...(props.hub ? { RAMPART_HUB: 'true', RAMPART_PARTITION: Aws.PARTITION } : {}),
    };
    if (props.hub)
      this.hubBus = new HubBus(this, 'HubBus', {
        organizationId: props.hub.organizationId,
        orgPaths: policy.organization?.orgPaths ?? [],
        memberRoles: props.hub.memberRoles,
        topic: this.notifications.topic,
        deadLetterQueue: this.deadLetterQueue,
      });
    this.approvals = new ApprovalApi(this, 'Approvals', { policy, key: this.key, table: this.guardTable.table, approvalSecret });
    this.workflow = new RemediationWorkflow(this, 'Workflow', {
      policy,
      key: this.key,
      table: this.guardTable.table,
      topic: this.notifications.topic,
      notificationDeadLetters: this.notifications.deadLetters,
      approvalSecret,
      environment: env,
      approvalEnvironment: { RAMPART_APPROVAL_API_URL: this.approvals.api.url, RAMPART_APPROVAL_SECRET_ARN: approvalSecret.secretArn },
    });
    this.approvals.allowResume(this.workflow.stateMachine);
    this.detectors = new DetectorRules(this, 'Detectors', {
      policy,
      key: this.key,
      table: this.guardTable.table,
      stateMachine: this.workflow.stateMachine,
      topic: this.notifications.topic,
      deadLetterQueue: this.deadLetterQueue,
      excludedRoleArns: [this.workflow.remediationRoleArn],
      environment: { ...env, RAMPART_STATE_MACHINE_ARN: this.workflow.stateMachine.stateMachineArn },
      ...(props.hub && this.hubBus ? { hub: { bus: this.hubBus.bus, target: props.hub } } : {}),
    });

    this.sweep = new PeriodicSweep(this, 'Sweep', {
      policy,
      key: this.key,
      table: this.guardTable.table,
      workflow: this.workflow.stateMachine,
      deadLetterQueue: this.deadLetterQueue,
      environment: { ...env, RAMPART_STATE_MACHINE_ARN: this.workflow.stateMachine.stateMachineArn },
      ...(props.hub ? { organization: props.hub } : {}),
    });

    if (props.hub) {
      // plan and verify read, apply writes: each in the finding's account, through its member role
      const f = this.workflow.functions;
      grantMemberRole(f.plan, 'read', 'Plan', props.hub);
      grantMemberRole(f.verify, 'read', 'Verify', props.hub);
      grantMemberRole(f.apply, 'remediate', 'Apply', props.hub);
      grantMemberRole(this.sweep.function, 'read', 'Sweep', props.hub);
      for (const fn of [f.plan, f.verify, f.apply, this.sweep.function]) grantListParents(fn, props.hub);
    }

    new GuardAlarms(this, 'Alarms', {
      topic: this.notifications.topic,
      deadLetterQueue: this.deadLetterQueue,
      stateMachine: this.workflow.stateMachine,
      sweepStateMachine: this.sweep.stateMachine,
      organization: props.hub !== undefined,
    });

    if (props.createTrail) this.createTrail();
    Aspects.of(this).add(new NarrowWildcardGrants());
    for (const machine of [this.workflow.stateMachine, this.sweep.stateMachine]) {
      Validations.of(machine.role).acknowledge({
        id: 'AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:*]',
        reason:
          "Execution logging: the log groups' resource policy calls (logs:PutResourcePolicy, DescribeResourcePolicies, DescribeLogGroups), on this account's log groups",
      });
    }

    // last: it watches every resource created above
    this.tamperAlerts = new TamperAlerts(this, 'TamperAlerts', {
      watched: this,
      topic: this.notifications.topic,
      deadLetterQueue: this.deadLetterQueue,
      externalSecretArns: [policy.notifications.slack?.webhookSecretArn, policy.notifications.slack?.signingSecretArn].filter(
        (a): a is string => a !== undefined,
      ),
      iamEventsForwarded: props.iamEventsForwarded,
      notifiers: [...this.notifications.notifiers.values()],
    });

    new CfnOutput(this, 'TableName', { value: this.guardTable.table.tableName, description: 'for rampart approvals/findings --table' });
    new CfnOutput(this, 'TopicArn', { value: this.notifications.topic.topicArn });
    new CfnOutput(this, 'ApprovalApiUrl', { value: this.approvals.api.url });
    new CfnOutput(this, 'StateMachineArn', { value: this.workflow.stateMachine.stateMachineArn });
    // `rampart doctor` compares it with the CLI's: a guard and a CLI of different versions may judge differently
    new CfnOutput(this, 'Version', { value: rampartVersion(), description: 'the Rampart version deployed (rampart doctor)' });
  }

  /**
   * The services that use the key on Rampart's behalf, each only from this account and for the
   * guard's kind of resource (confused-deputy protection). EventBridge rules and CloudWatch
   * alarms publish to the encrypted topic (the data key carries the topic in its encryption
   * context); SNS itself, for that topic. CloudWatch Logs binds its calls to a log group by
   * encryption context, the condition its documentation gives (it documents no aws:SourceAccount
   * on these calls).
   */
  private allowServicesOnKey(): void {
    const inAccount = (service: string, resource: string) => `arn:${Aws.PARTITION}:${service}:${Aws.REGION}:${Aws.ACCOUNT_ID}:${resource}`;
    const topics = inAccount('sns', '*');
    for (const [service, sourceArn] of [
      ['events.amazonaws.com', inAccount('events', 'rule/*')],
      ['cloudwatch.amazonaws.com', inAccount('cloudwatch', 'alarm:*')],
      ['sns.amazonaws.com', topics],
    ] as const) {
      this.key.addToResourcePolicy(
        new iam.PolicyStatement({
          principals: [new iam.ServicePrincipal(service)],
          actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          resources: ['*'],
          conditions: {
            StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
            ArnLike: { 'aws:SourceArn': sourceArn, 'kms:EncryptionContext:aws:sns:topicArn': topics },
          },
        }),
      );
    }
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('logs.amazonaws.com')],
        actions: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:DescribeKey'],
        resources: ['*'],
        conditions: { ArnLike: { 'kms:EncryptionContext:aws:logs:arn': inAccount('logs', 'log-group:*') } },
      }),
    );
  }

  private createTrail(): void {
    const accessLogs = new s3.Bucket(this, 'TrailAccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const bucket = new s3.Bucket(this, 'TrailBucket', {
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: this.key,
      bucketKeyEnabled: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: true,
      serverAccessLogsBucket: accessLogs,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // CloudTrail's documented key policy: its own trails' encryption context, from this account's trails
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('cloudtrail.amazonaws.com')],
        actions: ['kms:GenerateDataKey*', 'kms:Decrypt'],
        resources: ['*'],
        conditions: {
          StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
          ArnLike: { 'aws:SourceArn': `arn:${Aws.PARTITION}:cloudtrail:${Aws.REGION}:${Aws.ACCOUNT_ID}:trail/*` },
          StringLike: { 'kms:EncryptionContext:aws:cloudtrail:arn': `arn:${Aws.PARTITION}:cloudtrail:*:${Aws.ACCOUNT_ID}:trail/*` },
        },
      }),
    );
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('cloudtrail.amazonaws.com')],
        actions: ['kms:DescribeKey'],
        resources: ['*'],
        conditions: {
          StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
          ArnLike: { 'aws:SourceArn': `arn:${Aws.PARTITION}:cloudtrail:${Aws.REGION}:${Aws.ACCOUNT_ID}:trail/*` },
        },
      }),
    );
    new cloudtrail.Trail(this, 'Trail', {
      bucket,
      encryptionKey: this.key,
      isMultiRegionTrail: true,
      includeGlobalServiceEvents: true,
      enableFileValidation: true,
    });
  }
}
