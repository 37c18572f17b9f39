import { ArnFormat, Names, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { grantSecretRead, grantTable, TABLE_ACTIONS } from '../grants';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import type { Policy } from '../../core/policy';
import { policySliceFor } from '../policy-slices';
import { RampartFunction } from './functions';

export interface ApprovalApiProps {
  policy: Policy;
  key: kms.IKey;
  table: dynamodb.ITable;
  approvalSecret: secretsmanager.ISecret;
  /** Requests per second the API accepts (a human clicks; anything more is abuse). Default 5. */
  rateLimit?: number;
  burstLimit?: number;
}

/**
 * The approval API: signed links from emails and Slack's button callbacks. It follows what
 * Rampart enforces: a WAFv2 web ACL on the stage, stage throttling, access logs.
 */
export class ApprovalApi extends Construct {
  readonly api: apigateway.RestApi;
  readonly handler: RampartFunction;
  readonly webAcl: wafv2.CfnWebACL;

  constructor(scope: Construct, id: string, props: ApprovalApiProps) {
    super(scope, id);
    const slackSigning = props.policy.notifications.slack?.signingSecretArn;
    this.handler = new RampartFunction(this, 'Callback', {
      entry: 'handlers/approval-callback.ts',
      handler: 'handler',
      description: 'Rampart approvals: verify a signed link or a Slack callback and resume the workflow',
      key: props.key,
      policy: policySliceFor(props.policy, 'approvalCallback'),
      environment: {
        RAMPART_TABLE: props.table.tableName,
        RAMPART_APPROVAL_SECRET_ARN: props.approvalSecret.secretArn,
        ...(slackSigning ? { RAMPART_SLACK_SIGNING_SECRET_ARN: slackSigning } : {}),
      },
    });
    grantTable(this.handler, props.table, TABLE_ACTIONS.approvalCallback);
    grantSecretRead(this.handler, props.approvalSecret.secretArn, props.key);
    if (slackSigning) grantSecretRead(this.handler, slackSigning);

    const accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      encryptionKey: props.key,
      retention: logs.RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.api = new apigateway.RestApi(this, 'Api', {
      description: 'Rampart approvals',
      endpointTypes: [apigateway.EndpointType.REGIONAL],
      cloudWatchRole: false,
      deployOptions: {
        stageName: 'approvals',
        throttlingRateLimit: props.rateLimit ?? 5,
        throttlingBurstLimit: props.burstLimit ?? 10,
        accessLogDestination: new apigateway.LogGroupLogDestination(accessLogs),
        accessLogFormat: apigateway.AccessLogFormat.jsonWithStandardFields(),
        tracingEnabled: true,
      },
    });
    const integration = new apigateway.LambdaIntegration(this.handler);
    // a link without its expiry and signature is refused before it costs an invocation
    const requestValidator = this.api.addRequestValidator('Parameters', { validateRequestParameters: true, validateRequestBody: true });
    const signedLink = {
      requestParameters: {
        'method.request.querystring.exp': true,
        'method.request.querystring.by': true,
        'method.request.querystring.sig': true,
      },
      requestValidator,
    };
    const link = this.api.root.addResource('approvals').addResource('{id}').addResource('{decision}');
    link.addMethod('GET', integration, signedLink);
    link.addMethod('POST', integration, signedLink);
    this.api.root
      .addResource('slack')
      .addResource('interactions')
      .addMethod('POST', integration, {
        requestParameters: { 'method.request.header.X-Slack-Signature': true, 'method.request.header.X-Slack-Request-Timestamp': true },
        requestValidator,
      });
    const noAuthorizer =
      'Callers carry no AWS identity: an email link is authorized by its HMAC signature and expiry, a Slack callback by Slack request signing; both are verified in the handler, and each decision works once';
    for (const id of ['AwsSolutions::AwsSolutions-APIG4', 'AwsSolutions::AwsSolutions-COG4'])
      Validations.of(this.api).acknowledge({ id, reason: noAuthorizer });
    Validations.of(this.api).acknowledge({
      id: 'AwsSolutions::AwsSolutions-APIG6',
      reason:
        'Access logs are on; execution logging needs the account-wide API Gateway CloudWatch role, which Rampart does not take over from the account',
    });

    this.webAcl = new wafv2.CfnWebACL(this, 'WebAcl', {
      scope: 'REGIONAL',
      defaultAction: { allow: {} },
      visibilityConfig: { cloudWatchMetricsEnabled: true, metricName: 'RampartApprovals', sampledRequestsEnabled: true },
      rules: [
        {
          name: 'common-rules',
          priority: 0,
          overrideAction: { none: {} },
          statement: { managedRuleGroupStatement: { vendorName: 'AWS', name: 'AWSManagedRulesCommonRuleSet' } },
          visibilityConfig: { cloudWatchMetricsEnabled: true, metricName: 'RampartApprovalsCommon', sampledRequestsEnabled: true },
        },
        {
          name: 'rate-per-ip',
          priority: 1,
          action: { block: {} },
          statement: { rateBasedStatement: { limit: 100, aggregateKeyType: 'IP' } },
          visibilityConfig: { cloudWatchMetricsEnabled: true, metricName: 'RampartApprovalsRate', sampledRequestsEnabled: true },
        },
      ],
    });
    new wafv2.CfnWebACLAssociation(this, 'WebAclAssociation', {
      resourceArn: this.api.deploymentStage.stageArn,
      webAclArn: this.webAcl.attrArn,
    });

    // WAF's request log. A link's signature (`sig`) is a bearer credential until it expires, so
    // it must not be logged; WAF redacts only whole parts of a request (UriPath, QueryString,
    // SingleHeader, Method: no single query argument), so the query string goes
    // (`httpRequest.args` reads REDACTED; the path with the approval id stays)
    const wafLogs = new logs.LogGroup(this, 'WafLogs', {
      // WAF delivers to CloudWatch Logs only into groups named aws-waf-logs-*
      logGroupName: `aws-waf-logs-${Names.uniqueResourceName(this, { maxLength: 200, separator: '-' })}`,
      encryptionKey: props.key,
      retention: logs.RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    new wafv2.CfnLoggingConfiguration(this, 'WafLogging', {
      resourceArn: this.webAcl.attrArn,
      logDestinationConfigs: [
        Stack.of(this).formatArn({
          service: 'logs',
          resource: 'log-group',
          resourceName: wafLogs.logGroupName,
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        }),
      ],
      redactedFields: [{ queryString: {} }],
    });
  }

  /**
   * Lets the callback resume executions of the workflow. A policy of its own, not the role's
   * default policy: the function must not wait for the state machine, whose tasks carry this
   * API's URL (that would be a dependency cycle).
   */
  allowResume(stateMachine: sfn.IStateMachine): void {
    new iam.Policy(this, 'ResumeWorkflow', {
      roles: [this.handler.role!],
      statements: [
        new iam.PolicyStatement({
          actions: ['states:SendTaskSuccess', 'states:SendTaskFailure'],
          resources: [stateMachine.stateMachineArn],
        }),
      ],
    });
  }
}
