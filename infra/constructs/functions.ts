import { Duration, RemovalPolicy, Stack, Token, Tokenization, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { join } from 'node:path';
import { brotliCompressSync, constants as zlib } from 'node:zlib';
import type { PolicySlice } from '../policy-slices';

export const PROJECT_ROOT = join(__dirname, '../..');

export interface RampartFunctionProps {
  /** Source file, relative to the project root. */
  entry: string;
  /** Exported handler name. */
  handler: string;
  environment?: Record<string, string>;
  /** The part of the policy the function reads (`policySliceFor`), passed in its environment. */
  policy?: PolicySlice;
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

/** Lambda refuses a function whose environment variables are over 4 KB in total. */
export const LAMBDA_ENVIRONMENT_LIMIT = 4096;

/**
 * What a value that is not known until deployment (a table name, a topic ARN, the API URL) is
 * counted as: CloudFormation's generated names are under 64 characters + a 13-character
 * suffix, so an ARN or URL of one stays under this.
 */
export const TOKEN_CHARS = 160;

/**
 * The size an environment will have once deployed, counted high: the bytes of its JSON (keys,
 * values, quotes, escapes), each deploy-time value counted as {@link TOKEN_CHARS}.
 */
export function environmentSize(environment: Record<string, string>): number {
  let tokens = 0;
  const literal = Object.fromEntries(
    Object.entries(environment).map(([key, value]) => {
      if (!Token.isUnresolved(value)) return [key, value];
      const count = Tokenization.reverseString(value).tokens.length;
      tokens += Math.max(count, 1);
      // the tokens are encoded in the string as `${Token[NAME.n]}`: what is left is literal
      return [key, value.replace(/\$\{Token\[[^\]]+\]\}/g, '')];
    }),
  );
  return Buffer.byteLength(JSON.stringify(literal)) + tokens * TOKEN_CHARS;
}

/**
 * The function's environment with its policy slice: plain JSON in `RAMPART_POLICY` (readable
 * in the console) when it fits, else Brotli in base64 in `RAMPART_POLICY_BROTLI` (ARNs repeat:
 * one web ACL over many stages, one account in every approver ARN). Brotli, not gzip: on the
 * sweep's slice of a large policy (every control on) it is about a fifth smaller, room for the
 * slices of several more controls; Node's zlib reads it, no dependency.
 */
function withPolicy(environment: Record<string, string>, policy: PolicySlice | undefined): Record<string, string> {
  if (!policy) return environment;
  const json = JSON.stringify(policy);
  const plain = { ...environment, RAMPART_POLICY: json };
  if (environmentSize(plain) <= LAMBDA_ENVIRONMENT_LIMIT) return plain;
  const compressed = brotliCompressSync(json, {
    params: {
      [zlib.BROTLI_PARAM_MODE]: zlib.BROTLI_MODE_TEXT,
      [zlib.BROTLI_PARAM_QUALITY]: zlib.BROTLI_MAX_QUALITY,
      [zlib.BROTLI_PARAM_SIZE_HINT]: Buffer.byteLength(json),
    },
  });
  return { ...environment, RAMPART_POLICY_BROTLI: compressed.toString('base64') };
}

/**
 * The Powertools Tracer and the X-Ray SDK under it are loaded only when tracing is on
 * (handlers/telemetry.ts `traced`): left out of the function's bundle, they sit beside it as a
 * module of their own, bundled here, where `require` finds the package (`node_modules/` next
 * to `index.js`). `semver`, which the X-Ray SDK loads only for its AWS SDK v2 patcher, is
 * replaced by the one check it makes (`tracer-semver.ts`).
 */
const TRACER_PACKAGE = '@aws-lambda-powertools/tracer';

export function tracerBundleCommand(outputDir: string): string {
  const esbuild = join(PROJECT_ROOT, 'node_modules', '.bin', 'esbuild');
  const entry = join(PROJECT_ROOT, 'node_modules', TRACER_PACKAGE, 'lib', 'cjs', 'index.js');
  const outfile = join(outputDir, 'node_modules', TRACER_PACKAGE, 'index.js');
  return [
    esbuild,
    entry,
    '--bundle',
    '--platform=node',
    '--target=node22',
    '--minify',
    "--external:'@aws-sdk/*'",
    `--alias:semver=${join(__dirname, 'tracer-semver.ts')}`,
    `--outfile=${outfile}`,
    '--log-level=warning',
  ]
    .map((arg) => (arg.startsWith('--external') ? arg : JSON.stringify(arg)))
    .join(' ');
}

/**
 * A Rampart Lambda: Node.js 22, bundled here with the local esbuild (no Docker), minified with
 * source maps, X-Ray tracing, its own encrypted log group.
 */
export class RampartFunction extends nodejs.NodejsFunction {
  constructor(scope: Construct, id: string, props: RampartFunctionProps) {
    const environment = withPolicy(
      { NODE_OPTIONS: '--enable-source-maps', POWERTOOLS_SERVICE_NAME: 'rampart', ...props.environment },
      props.policy,
    );
    const logGroup = new logs.LogGroup(scope, `${id}Logs`, {
      retention: logs.RetentionDays.THREE_MONTHS,
      encryptionKey: props.key,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // its own role, instead of the AWS managed AWSLambdaBasicExecutionRole (logs anywhere)
    const role = new iam.Role(scope, `${id}Role`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: props.description.slice(0, 1000),
    });
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [logGroup.logGroupArn] }),
    );
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
      environment,
      ...(props.deadLetterQueue ? { deadLetterQueue: props.deadLetterQueue, retryAttempts: 2 } : {}),
      bundling: {
        minify: true,
        sourceMap: true,
        sourcesContent: false,
        target: 'node22',
        forceDockerBundling: false,
        // the Node.js 22 runtime carries AWS SDK v3; commands are imported one by one
        externalModules: ['@aws-sdk/*', TRACER_PACKAGE],
        commandHooks: {
          beforeBundling: () => [],
          beforeInstall: () => [],
          afterBundling: (_inputDir, outputDir) => [tracerBundleCommand(outputDir)],
        },
      },
    });
    // a function Lambda would refuse is never deployed: the synth fails, naming it
    this.node.addValidation({
      validate: () => {
        const size = environmentSize(environment);
        return size <= LAMBDA_ENVIRONMENT_LIMIT
          ? []
          : [
              `${this.node.path}: its environment would be about ${size} bytes, over Lambda's ${LAMBDA_ENVIRONMENT_LIMIT} (the policy part it reads is too large: fewer stage web ACL mappings, approvers or exemption ARNs)`,
            ];
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
    Validations.of(this).acknowledge({
      id: 'AwsSolutions::AwsSolutions-L1',
      reason: 'Node.js 22 is the runtime Rampart is built and tested for',
    });
  }
}
