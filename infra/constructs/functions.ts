import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { join } from 'node:path';

export const PROJECT_ROOT = join(__dirname, '../..');

export interface RampartFunctionProps {
  /** Source file, relative to the project root. */
  entry: string;
  /** Exported handler name. */
  handler: string;
  environment?: Record<string, string>;
  /** Key encrypting the log group and the dead-letter queue. */
  key: kms.IKey;
  /** Dead-letter queue for asynchronous invocations; none for synchronous callers. */
  deadLetterQueue?: sqs.IQueue;
  /** Default 30 s. */
  timeout?: Duration;
  memorySize?: number;
  description: string;
  /** Actions the function's code calls that take `*` only, beside X-Ray's (named in the nag acknowledgement). */
  actionsOnAnyResource?: readonly string[];
}

/**
 * A Rampart Lambda: Node.js 22, bundled here with the local esbuild (no Docker), minified with
 * source maps, X-Ray tracing, its own encrypted log group.
 */
export class RampartFunction extends nodejs.NodejsFunction {
  constructor(scope: Construct, id: string, props: RampartFunctionProps) {
    const logGroup = new logs.LogGroup(scope, `${id}Logs`, {
      retention: logs.RetentionDays.THREE_MONTHS,
      encryptionKey: props.key,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // its own role, instead of the AWS managed AWSLambdaBasicExecutionRole (logs anywhere)
    const role = new iam.Role(scope, `${id}Role`, { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'), description: props.description.slice(0, 1000) });
    role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [logGroup.logGroupArn] }));
    super(scope, id, {
      role,
      entry: join(PROJECT_ROOT, props.entry),
      handler: props.handler,
      description: props.description,
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 256,
      timeout: props.timeout ?? Duration.seconds(30),
      tracing: lambda.Tracing.ACTIVE,
      logGroup,
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: join(PROJECT_ROOT, 'package-lock.json'),
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_SERVICE_NAME: 'rampart',
        ...props.environment,
      },
      ...(props.deadLetterQueue ? { deadLetterQueue: props.deadLetterQueue, retryAttempts: 2 } : {}),
      bundling: {
        minify: true,
        sourceMap: true,
        sourcesContent: false,
        target: 'node22',
        forceDockerBundling: false,
        // the Node.js 22 runtime carries AWS SDK v3; commands are imported one by one
        externalModules: ['@aws-sdk/*'],
      },
    });
    // this role's only grants on `*` (test/infra/wildcards.test.ts fails on any other)
    Validations.of(role).acknowledge({
      id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
      reason: `Only actions that take no resource type: ${['xray:PutTraceSegments', 'xray:PutTelemetryRecords', ...(props.actionsOnAnyResource ?? [])].join(', ')} (X-Ray tracing${props.actionsOnAnyResource?.length ? ', account-wide listing' : ''})`,
    });
    Validations.of(role).acknowledge({
      id: `AwsSolutions::AwsSolutions-IAM5[Resource::<${Stack.of(this).getLogicalId(logGroup.node.defaultChild as logs.CfnLogGroup)}.Arn>:*]`,
      reason: "Log streams of the function's own log group (the group ARN ends in :*)",
    });
    Validations.of(this).acknowledge({ id: 'AwsSolutions::AwsSolutions-L1', reason: 'Node.js 22 is the runtime Rampart is built and tested for' });
  }
}
