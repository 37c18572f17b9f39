import type { SFNClient } from '@aws-sdk/client-sfn';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { SQSClient, SQSClientConfig } from '@aws-sdk/client-sqs';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { assumedRoleCredentials } from '../core/assume-role';
import { lazy } from '../core/lazy';
import { createClientFactory, type AwsClients, type CredentialsScope } from '../core/aws';
import { documentClient, DynamoApprovalStore, DynamoFindingsStore, DynamoFixLedger, DynamoLastKnownGood } from '../core/dynamo-stores';
import { ledgerKeepSeconds, type FixLedger } from '../core/fix-budget';
import type { LastKnownGoodStore } from '../core/last-known-good';
import { organizationalUnitsOf } from '../core/organization';
import { overridesUseOus, policyFor } from '../core/overrides';
import type { Policy } from '../core/policy';
import { SecretCache } from '../core/secrets';
import { sdk } from '../core/sdk';
import type { ApprovalStore, FindingsStore } from '../core/stores';
import type { Telemetry } from '../core/telemetry';
import { telemetry, traced } from './telemetry';

/** The detector's dead-letter queue, written directly for events that fail the same way every time. */
export interface DeadLetters {
  send(message: { body: string; attributes: Record<string, string> }): Promise<void>;
}

/** Sends to the dead-letter queue at `queueUrl`; the SQS client (and its package) is made on the first send. */
export function sqsDeadLetters(queueUrl: string, clientConfig: SQSClientConfig): DeadLetters {
  let client: SQSClient | undefined;
  return {
    async send({ body, attributes }) {
      client ??= traced(new sdk.sqs.SQSClient(clientConfig));
      const MessageAttributes = Object.fromEntries(Object.entries(attributes).map(([k, v]) => [k, { DataType: 'String', StringValue: v }]));
      await client.send(new sdk.sqs.SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body, MessageAttributes }));
    },
  };
}

/**
 * Step Functions calls on the finding path: the SDK's own retries (backoff, adaptive rate on
 * throttling) and timeouts, so a hung connection is retried instead of eating the Lambda's time.
 */
export const WORKFLOW_CLIENT_CONFIG = {
  maxAttempts: 5,
  retryMode: 'adaptive',
  requestHandler: { connectionTimeout: 3_000, requestTimeout: 10_000 },
} as const;

/** Everything a Rampart function needs, built once per cold start from its environment. */
export interface GuardDeps {
  /** The base policy (each account's is `policyFor(account)`). */
  policy: Policy;
  /** The clients of the guard's own account. */
  clients: AwsClients;
  /**
   * The clients of an account: in a hub (`RAMPART_HUB`) a member account's through its assumed
   * role; in a single-account guard always its own (a finding of another account is then refused
   * by the remediation, never fixed here).
   */
  clientsFor(scope: Partial<CredentialsScope>): AwsClients;
  /** The policy of an account: the base with its overrides merged over it (OUs read from Organizations when an override names one). */
  policyFor(account: string | undefined): Promise<Policy>;
  findings: FindingsStore;
  approvals: ApprovalStore;
  lastKnownGood: LastKnownGoodStore;
  fixes: FixLedger;
  sns: SNSClient;
  sfn: SFNClient;
  secrets: Pick<SecretCache, 'get'>;
  /** Where the detector sends malformed events (set for detector functions). */
  deadLetters?: DeadLetters;
  config: {
    topicArn?: string;
    stateMachineArn?: string;
    approvalApiUrl?: string;
    approvalSecretArn?: string;
    slackWebhookSecretArn?: string;
    slackSigningSecretArn?: string;
    /** The one control a detector function judges (each holds only its control's read grants); unset: every control. */
    control?: string;
    /** The controls enabled in the deployed policy (the function's own policy holds only the part it reads). */
    controlsOn?: string[];
  };
  clock: () => Date;
  telemetry: Telemetry;
}

function required(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name];
  if (!value) throw new Error(`environment variable ${name} is not set`);
  return value;
}

/**
 * The part of the policy this function reads (infra/policy-slices.ts), as infra wrote it:
 * JSON, or Brotli in base64 when the JSON would not fit Lambda's 4 KB of environment (gzip in
 * base64, as earlier synths wrote it, is still read).
 */
function policyFromEnv(env: NodeJS.ProcessEnv): Policy {
  const brotli = env.RAMPART_POLICY_BROTLI;
  const gzipped = env.RAMPART_POLICY_GZIP;
  const text = brotli
    ? brotliDecompressSync(Buffer.from(brotli, 'base64')).toString('utf8')
    : gzipped
      ? gunzipSync(Buffer.from(gzipped, 'base64')).toString('utf8')
      : required(env, 'RAMPART_POLICY');
  // validated (and defaulted) by the synth that wrote it; re-validating here would put the
  // whole policy schema in every bundle
  const policy = JSON.parse(text) as Policy;
  if (typeof policy !== 'object' || policy === null || typeof policy.controls !== 'object')
    throw new Error('RAMPART_POLICY is not a synthesized Rampart policy');
  return policy;
}

/**
 * Where the guard's functions read their environment (the channel notifiers, which take no
 * policy, read theirs in `channelNotifierDepsFromEnv`): nothing below the handlers reads
 * `process.env`, it takes these values as parameters.
 */
export function depsFromEnv(env: NodeJS.ProcessEnv = process.env): GuardDeps {
  const policy = policyFromEnv(env);
  const table = required(env, 'RAMPART_TABLE');
  // clients are built (and their SDK packages loaded) on first use: a function pays only for what it calls
  const db = lazy(() => documentClient(traced(new sdk.dynamodb.DynamoDBClient({}))));
  const findings = lazy(() => new DynamoFindingsStore(db(), table, Number(env.RAMPART_RETENTION_DAYS ?? 90)));
  const approvals = lazy(() => new DynamoApprovalStore(db(), table));
  const lastKnownGood = lazy(() => new DynamoLastKnownGood(db(), table));
  const fixes = lazy(() => new DynamoFixLedger(db(), table, ledgerKeepSeconds(policy.fixBudget)));
  const sns = lazy(() => traced(new sdk.sns.SNSClient({})));
  const sfn = lazy(() => traced(new sdk.sfn.SFNClient(WORKFLOW_CLIENT_CONFIG)));
  const secrets = lazy(() => new SecretCache(traced(new sdk.secretsManager.SecretsManagerClient({}))));
  const hub = env.RAMPART_HUB === 'true';
  const sts = lazy(() => traced(new sdk.sts.STSClient({ region: env.AWS_REGION, ...WORKFLOW_CLIENT_CONFIG })));
  const factory = createClientFactory({
    region: env.AWS_REGION,
    regions: policy.regions,
    ...(hub
      ? {
          credentialsProvider: assumedRoleCredentials({
            hubAccount: env.RAMPART_ACCOUNT,
            roles: policy.organization?.memberRoles ?? { read: 'RampartRead', remediate: 'RampartRemediate' },
            partition: env.RAMPART_PARTITION,
            sts,
          }),
        }
      : {}),
  });
  // the guard's own account, from the stack (RAMPART_ACCOUNT), never from the function's ARN
  const own = factory.clientsFor({ account: env.RAMPART_ACCOUNT });
  const organizations = lazy(() => traced(new sdk.organizations.OrganizationsClient(WORKFLOW_CLIENT_CONFIG)));
  return {
    policy,
    clients: own,
    clientsFor: (scope) => (hub && scope.account && scope.account !== env.RAMPART_ACCOUNT ? factory.clientsFor(scope) : own),
    policyFor: accountPolicies(policy, hub ? (account) => organizationalUnitsOf(organizations(), account) : undefined),
    get findings() {
      return findings();
    },
    get approvals() {
      return approvals();
    },
    get lastKnownGood() {
      return lastKnownGood();
    },
    get fixes() {
      return fixes();
    },
    get sns() {
      return sns();
    },
    get sfn() {
      return sfn();
    },
    get secrets() {
      return secrets();
    },
    ...(env.RAMPART_DEAD_LETTER_QUEUE_URL
      ? { deadLetters: sqsDeadLetters(env.RAMPART_DEAD_LETTER_QUEUE_URL, WORKFLOW_CLIENT_CONFIG) }
      : {}),
    config: {
      topicArn: env.RAMPART_TOPIC_ARN,
      stateMachineArn: env.RAMPART_STATE_MACHINE_ARN,
      approvalApiUrl: env.RAMPART_APPROVAL_API_URL,
      approvalSecretArn: env.RAMPART_APPROVAL_SECRET_ARN,
      slackWebhookSecretArn: env.RAMPART_SLACK_WEBHOOK_SECRET_ARN,
      slackSigningSecretArn: env.RAMPART_SLACK_SIGNING_SECRET_ARN,
      control: env.RAMPART_CONTROL,
      controlsOn: env.RAMPART_CONTROLS_ON?.split(',').filter((id) => id !== ''),
    },
    clock: () => new Date(),
    telemetry,
  };
}

/**
 * Each account's policy, remembered per cold start. Where an account sits (its OUs) is read only
 * when an override names an OU, and only in a hub: a single-account guard matches accounts.
 */
export function accountPolicies(
  policy: Policy,
  ousOf?: (account: string) => Promise<string[]>,
): (account: string | undefined) => Promise<Policy> {
  if (policy.overrides === undefined || policy.overrides.length === 0) return async () => policy;
  const byAccount = new Map<string, Promise<Policy>>();
  return (account) => {
    if (!account) return Promise.resolve(policy);
    let found = byAccount.get(account);
    if (!found) {
      const ous = ousOf && overridesUseOus(policy) ? ousOf(account) : Promise.resolve([]);
      found = ous.then((organizationalUnits) => policyFor(policy, { account, organizationalUnits }));
      // a failed lookup is not kept
      found.catch(() => byAccount.delete(account));
      byAccount.set(account, found);
    }
    return found;
  };
}

/** Lazily built deps, so importing a handler module (tests, bundling) never reads the environment. */
export function lazyDeps(): () => GuardDeps {
  let deps: GuardDeps | undefined;
  return () => (deps ??= depsFromEnv());
}
