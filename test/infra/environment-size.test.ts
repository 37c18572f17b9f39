import { brotliDecompressSync } from 'node:zlib';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { CONTROL_IDS } from '../../controls';
import { parsePolicy, type Policy, type PolicyInput } from '../../controls/policy';
import { LAMBDA_ENVIRONMENT_LIMIT, TOKEN_CHARS } from '../../infra/constructs/functions';
import { policySliceFor, type PolicyReader } from '../../infra/policy-slices';
import { RampartStack } from '../../infra/stack';

const ACCOUNT = '111122223333';
const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');
const acl = (n: number) =>
  `arn:aws:wafv2:eu-west-1:${ACCOUNT}:regional/webacl/team-${n}-acl/${hex(n * 7919, 8)}-5e6f-4a7b-8c9d-${hex(n * 104729, 12)}`;
const restApiId = (n: number) => `a${hex(n * 2654435761, 9)}`.slice(0, 10);

/** A large guard: every control on, 20 approvers of each kind, 40 stages, each with a web ACL of its own (the sweep carries every control: it is the first to outgrow 4 KB). */
function largePolicyInput(distinctAcls: number): PolicyInput {
  const controls: Record<string, unknown> = {
    's3-default-encryption': {
      algorithm: 'aws:kms',
      kmsKeyId: `arn:aws:kms:eu-west-1:${ACCOUNT}:key/0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d`,
      bucketKeyEnabled: true,
      risk: 'low',
    },
    'apigateway-waf': {
      defaultWebAclArn: acl(0),
      stages: Object.fromEntries(
        Array.from({ length: 40 }, (_, i) => [`${restApiId(i + 1)}/${i % 2 ? 'prod' : 'staging'}`, acl((i % distinctAcls) + 1)]),
      ),
      risk: 'low',
    },
    'apigateway-throttling': {
      rateLimit: 1000,
      burstLimit: 500,
      usagePlans: { rateLimit: 200, burstLimit: 100, quotaLimit: 1_000_000, quotaPeriod: 'MONTH' },
      risk: 'high',
    },
    'cloudtrail-logging': {
      trails: Array.from({ length: 5 }, (_, i) => `arn:aws:cloudtrail:eu-west-1:${ACCOUNT}:trail/organization-audit-${i + 1}`),
      multiRegion: true,
      logFileValidation: true,
      includeGlobalServiceEvents: true,
      kmsKeyId: `arn:aws:kms:eu-west-1:${ACCOUNT}:key/1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e`,
      managementEvents: 'All',
      risk: 'low',
    },
    'config-recording': {
      allSupported: false,
      resourceTypes: ['AWS::IAM::Role', 'AWS::IAM::Policy', 'AWS::EC2::SecurityGroup'],
      recreate: {
        roleArn: `arn:aws:iam::${ACCOUNT}:role/aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig`,
        s3BucketName: `config-bucket-${ACCOUNT}`,
      },
      risk: 'low',
    },
    'apigateway-logging': {
      accessLogDestinationArn: `arn:aws:logs:eu-west-1:${ACCOUNT}:log-group:/organization/api-gateway/access-logs`,
      executionLogging: 'ERROR',
      stages: Object.fromEntries(
        Array.from({ length: 20 }, (_, i) => [`${restApiId(i + 1)}/prod`, { executionLogging: 'INFO', tracing: true }]),
      ),
      risk: 'low',
    },
    'apigateway-cache-encryption': { risk: 'low' },
    'apigateway-client-certificate': {
      stages: Array.from({ length: 24 }, (_, i) => `${restApiId(i + 1)}/prod`),
      renewBeforeDays: 45,
      risk: 'high',
    },
    's3-tls-only': { risk: 'low' },
    'kms-key-protection': { keys: ['alias/organization-data'], rotationPeriodInDays: 180, risk: 'low' },
    'apigateway-authorization': { allowUnauthenticated: ['OPTIONS *', 'GET /health'], apiKeyRequired: ['* /partners/*'], risk: 'high' },
    'apigateway-domain-tls': {
      minimumSecurityPolicy: 'SecurityPolicy_TLS13_1_2_2021_06',
      mutualTls: ['api.partners.example.com'],
      disableExecuteApiEndpoint: [restApiId(41)],
      risk: 'high',
    },
    'apigateway-private-endpoint': {
      apis: { [restApiId(42)]: { vpcEndpointIds: ['vpce-0a1b2c3d4e5f60718'], vpcs: ['vpc-0123456789abcdef0'] } },
      risk: 'high',
    },
    's3-public-access-block': { account: true, websiteBuckets: { tags: { 'rampart:public-website': 'true' }, arns: [] }, risk: 'high' },
  };
  return {
    mode: 'enforce',
    sweep: { schedule: 'rate(1 hour)', schedules: { 'cloudtrail-logging': 'rate(10 minutes)' } },
    regions: ['eu-west-1', 'eu-central-1', 'us-east-1', 'us-west-2'],
    notifications: {
      emails: ['secops@example.com', 'platform-oncall@example.com'],
      slack: {
        webhookSecretArn: `arn:aws:secretsmanager:eu-west-1:${ACCOUNT}:secret:rampart/slack-webhook-AbCdEf`,
        signingSecretArn: `arn:aws:secretsmanager:eu-west-1:${ACCOUNT}:secret:rampart/slack-signing-GhIjKl`,
        teamId: 'T012AB3C4',
        appId: 'A0123ABCD',
      },
    },
    approvals: {
      timeoutHours: 48,
      approvers: {
        slackUserIds: Array.from({ length: 20 }, (_, i) => `U0${hex(i * 48271 + 1, 8).toUpperCase()}`),
        emails: Array.from({ length: 20 }, (_, i) => `approver.number${i + 1}@security.example.com`),
        iamPrincipalArns: Array.from({ length: 20 }, (_, i) => `arn:aws:iam::${ACCOUNT}:role/security/SecOpsApprover${i + 1}`),
      },
    },
    exemptions: {
      tags: { 'rampart:exempt': 'true' },
      arns: Array.from({ length: 10 }, (_, i) => `arn:aws:s3:::legacy-data-bucket-${i + 1}`),
      requireExpiry: true,
    },
    controls,
  } as PolicyInput;
}

type Variables = Record<string, unknown>;
interface FunctionResource {
  Properties: { Description?: string; Handler: string; Environment?: { Variables: Variables } };
}

/** An environment's size as deployed, counted as infra counts it: each deploy-time value as TOKEN_CHARS. */
function sizeOf(variables: Variables): number {
  let tokens = 0;
  const count = (value: unknown): string => {
    if (typeof value === 'string') return value;
    const join = (value as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join'];
    if (join) return join[1].map(count).join(join[0]);
    tokens++;
    return '';
  };
  const literal = Object.fromEntries(Object.entries(variables).map(([k, v]) => [k, count(v)]));
  return Buffer.byteLength(JSON.stringify(literal)) + tokens * TOKEN_CHARS;
}

function readerOf(fn: FunctionResource): PolicyReader | undefined {
  const v = fn.Properties.Environment?.Variables ?? {};
  if (typeof v.RAMPART_CONTROL === 'string') return { detector: v.RAMPART_CONTROL };
  const description = fn.Properties.Description ?? '';
  if (description.startsWith('Rampart sweep')) return 'sweep';
  if (description.startsWith('Rampart approvals')) return 'approvalCallback';
  const task = /^index\.(\w+)Handler$/.exec(fn.Properties.Handler)?.[1];
  return task as PolicyReader | undefined;
}

function policyOf(variables: Variables): unknown {
  if (typeof variables.RAMPART_POLICY_BROTLI === 'string')
    return JSON.parse(brotliDecompressSync(Buffer.from(variables.RAMPART_POLICY_BROTLI, 'base64')).toString('utf8'));
  return typeof variables.RAMPART_POLICY === 'string' ? JSON.parse(variables.RAMPART_POLICY) : undefined;
}

function synth(policy: Policy): Template {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  return Template.fromStack(new RampartStack(app, 'Rampart', { policy }));
}

describe("every function's environment with a large policy", () => {
  const policy = parsePolicy(largePolicyInput(40));
  let functions: Array<[string, FunctionResource]>;
  beforeAll(() => {
    functions = Object.entries(synth(policy).findResources('AWS::Lambda::Function')) as Array<[string, FunctionResource]>;
  });

  it('turns every registered control on (the test grows with the registry)', () => {
    expect(Object.keys(policy.controls).sort()).toEqual([...CONTROL_IDS].sort());
  });

  it('is under 4 KB for every function', () => {
    const sizes = functions.map(([id, fn]) => [id, sizeOf(fn.Properties.Environment?.Variables ?? {})] as const);
    expect(sizes.length).toBeGreaterThanOrEqual(CONTROL_IDS.length + 7);
    for (const [id, size] of sizes) expect({ id, fits: size <= LAMBDA_ENVIRONMENT_LIMIT, size }).toEqual({ id, fits: true, size });
  });

  it('carries the part of the policy each function reads, exactly', () => {
    const withPolicy = functions.filter(([, fn]) => policyOf(fn.Properties.Environment?.Variables ?? {}) !== undefined);
    // every function but the channel notifiers (their own config, no policy)
    const notifiers = functions.filter(([, fn]) => typeof fn.Properties.Environment?.Variables.RAMPART_CHANNEL === 'string');
    expect(notifiers.length).toBeGreaterThan(0);
    expect(withPolicy.length).toBe(functions.length - notifiers.length);
    for (const [id, fn] of withPolicy) {
      const reader = readerOf(fn);
      expect({ id, reader: reader !== undefined }).toEqual({ id, reader: true });
      expect(policyOf(fn.Properties.Environment!.Variables)).toEqual(JSON.parse(JSON.stringify(policySliceFor(policy, reader!))));
    }
  });

  it("tells each detector which controls are on (it reports a shared resource's exemption changes only when it comes first)", () => {
    const detectors = functions.filter(([, fn]) => typeof fn.Properties.Environment?.Variables.RAMPART_CONTROL === 'string');
    expect(detectors).toHaveLength(CONTROL_IDS.length);
    for (const [, fn] of detectors)
      expect(String(fn.Properties.Environment!.Variables.RAMPART_CONTROLS_ON).split(',')).toEqual([...CONTROL_IDS]);
  });
});

describe('a policy no function environment can hold', () => {
  it('fails the synth, naming the function, instead of deploying one Lambda would refuse', () => {
    const input = largePolicyInput(1) as { controls: Record<string, { stages?: Record<string, string> }> };
    // 400 stages with a web ACL each: no encoding brings that under 4 KB
    input.controls['apigateway-waf']!.stages = Object.fromEntries(
      Array.from({ length: 400 }, (_, i) => [`${restApiId(i + 1)}${i}/prod`, acl(i + 1)]),
    );
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    new RampartStack(app, 'Rampart', { policy: parsePolicy(input as PolicyInput) });
    expect(() => app.synth()).toThrow(/Rampart\/Guard\/Workflow\/PlanFunction.*environment would be about \d+ bytes, over Lambda's 4096/s);
  });
});
