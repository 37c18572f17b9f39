import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { loadPolicyFile, parsePolicy } from '../../controls/policy';
import { IamAlertsStack } from '../../infra/iam-alerts-stack';
import { organizationTarget } from '../../infra/member-access';
import { RampartStack } from '../../infra/stack';

const ROOT = join(__dirname, '../..');

/**
 * Actions the Service Authorization Reference lists with no resource type ("you must specify
 * all resources (*)"): X-Ray's tracing calls, CloudWatch Logs' permission-only log delivery
 * actions, S3's account-wide bucket listing, CloudTrail's trail listing (`cloudtrail:ListTrails`:
 * no resource type in https://docs.aws.amazon.com/service-authorization/latest/reference/list_awscloudtrail.html),
 * Config's delivery channel calls (`config:DescribeDeliveryChannels`, `config:PutDeliveryChannel`: a delivery
 * channel has no ARN and no resource type in https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsconfig.html),
 * KMS's key listing (`kms:ListKeys`: no resource type in
 * https://docs.aws.amazon.com/service-authorization/latest/reference/list_awskeymanagementservice.html),
 * Organizations' account listing (`organizations:ListAccounts`: no resource type in
 * https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsorganizations.html; a hub's organization sweep),
 * S3's account-level Block Public Access (`s3:GetAccountPublicAccessBlock`, `s3:PutAccountPublicAccessBlock`: no resource
 * type in https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html).
 * Nothing else may be granted on `*`.
 */
const STAR_ONLY = new Set([
  'xray:PutTraceSegments',
  'xray:PutTelemetryRecords',
  'xray:GetSamplingRules',
  'xray:GetSamplingTargets',
  'logs:CreateLogDelivery',
  'logs:GetLogDelivery',
  'logs:UpdateLogDelivery',
  'logs:DeleteLogDelivery',
  'logs:ListLogDeliveries',
  's3:ListAllMyBuckets',
  'cloudtrail:ListTrails',
  'config:DescribeDeliveryChannels',
  'config:PutDeliveryChannel',
  'kms:ListKeys',
  'organizations:ListAccounts',
  's3:GetAccountPublicAccessBlock',
  's3:PutAccountPublicAccessBlock',
]);

type Statement = { Effect: string; Action: string | string[]; Resource: unknown };
type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>;

/** Every statement of every identity policy in a template: policies, managed policies, roles' inline policies. */
function identityStatements(resources: Resources): Array<{ where: string; statement: Statement }> {
  const out: Array<{ where: string; statement: Statement }> = [];
  for (const [id, r] of Object.entries(resources)) {
    const documents =
      r.Type === 'AWS::IAM::Policy' || r.Type === 'AWS::IAM::ManagedPolicy'
        ? [r.Properties.PolicyDocument]
        : r.Type === 'AWS::IAM::Role'
          ? ((r.Properties.Policies as Array<{ PolicyDocument: unknown }> | undefined) ?? []).map((p) => p.PolicyDocument)
          : [];
    for (const d of documents) for (const statement of (d as { Statement: Statement[] }).Statement) out.push({ where: id, statement });
  }
  return out;
}

const onStar = (resources: Resources) =>
  identityStatements(resources)
    .filter(
      ({ statement }) =>
        statement.Effect === 'Allow' && (Array.isArray(statement.Resource) ? statement.Resource.includes('*') : statement.Resource === '*'),
    )
    .flatMap(({ where, statement }) =>
      (Array.isArray(statement.Action) ? statement.Action : [statement.Action]).map((action) => `${where}: ${action}`),
    );

describe('grants on *', () => {
  let synthesized: Array<{ Resources: Resources }> | undefined;
  const synthAll = () => (synthesized ??= synthOnce());
  const synthOnce = () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const policy = parsePolicy({
      regions: ['eu-west-1', 'us-east-1'],
      notifications: {
        emails: ['secops@example.com'],
        slack: { webhookSecretArn: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:rampart/slack-webhook' },
      },
      controls: loadPolicyFile(join(ROOT, 'examples/rampart.config.yaml')).controls,
    });
    const organization = loadPolicyFile(join(ROOT, 'examples/organization.config.yaml'), { deploy: true });
    const stacks = [
      new RampartStack(app, 'Rampart', { policy, createTrail: true }),
      new RampartStack(app, 'RampartHub', { policy: organization, hub: organizationTarget(organization) }),
      new IamAlertsStack(app, 'RampartIamAlerts', { guardRegion: 'eu-west-1' }),
    ];
    return stacks.map((s) => Template.fromStack(s).toJSON() as { Resources: Resources });
  };

  it('carry only actions AWS offers on * alone, and no write', () => {
    for (const template of synthAll()) {
      const granted = onStar(template.Resources);
      expect(granted.filter((g) => !STAR_ONLY.has(g.slice(g.indexOf(': ') + 2)))).toEqual([]);
    }
  });

  it('are found wherever they are: a write on * in any identity policy fails the check', () => {
    const [template] = synthAll();
    const resources = structuredClone(template!.Resources);
    const policy = Object.values(resources).find((r) => r.Type === 'AWS::IAM::Policy')!;
    (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement.push({
      Effect: 'Allow',
      Action: 's3:PutEncryptionConfiguration',
      Resource: '*',
    });
    expect(onStar(resources)).toContain(`${Object.keys(resources).find((k) => resources[k] === policy)}: s3:PutEncryptionConfiguration`);
  });

  it('apigateway:PATCH names stages, usage plans, methods, REST APIs and domains in the policy regions and the stack region only', () => {
    const [template] = synthAll();
    const patch = identityStatements(template!.Resources).filter(({ statement }) =>
      ([] as string[]).concat(statement.Action).includes('apigateway:PATCH'),
    );
    expect(patch.length).toBeGreaterThan(0);
    const resources = patch.flatMap(({ statement }) => ([] as unknown[]).concat(statement.Resource)).map((r) => JSON.stringify(r));
    for (const r of resources)
      expect(r).toMatch(
        /apigateway:(eu-west-1|us-east-1|",\{"Ref":"AWS::Region"\},")::\/(restapis\/\*\/stages\/\*|usageplans\/\*|restapis\/\*\/resources\/\*\/methods\/\*|restapis\/\*|domainnames\/\*)"/,
      );
    expect(resources.join(' ')).not.toContain('apigateway:*');
    for (const region of ['eu-west-1', 'us-east-1'])
      expect(resources.some((r) => r.includes(`apigateway:${region}::/usageplans/*`))).toBe(true);
  });
});
