import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetBucketEncryptionCommand, PutBucketEncryptionCommand } from '@aws-sdk/client-s3';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { FakeAws } from '../fakes';
import { ARTIFACTS_KEY, FIXTURES, LEGACY_ACL, RAMPART_GUARD_ACL, fixture, jsonLines, runCli } from '../helpers';

const tmp = mkdtempSync(join(tmpdir(), 'rampart-cli-fix-'));
const POLICY = join(tmp, 'policy.yaml');
writeFileSync(
  POLICY,
  [
    'controls:',
    `  s3-default-encryption: { algorithm: "aws:kms", kmsKeyId: "${ARTIFACTS_KEY}", bucketKeyEnabled: true }`,
    `  apigateway-waf: { defaultWebAclArn: "${RAMPART_GUARD_ACL}" }`,
    '  apigateway-throttling: { rateLimit: 1000, burstLimit: 500 }',
    '',
  ].join('\n'),
);
const PROD = 'arn:aws:apigateway:us-east-1::/restapis/a1b2c3d4e5/stages/prod';

describe('rampart replay --plan', () => {
  it('adds risk and the exact SDK command input to each finding line', async () => {
    const result = await runCli([
      'replay',
      '--json',
      '--plan',
      '--config',
      POLICY,
      join(FIXTURES, 's3-DeleteBucketEncryption-constructed.json'),
      join(FIXTURES, 'apigateway-UpdateStage.throttle-over-constructed.json'),
    ]);
    const findings = jsonLines(result.stdout).filter((l) => l.type === 'finding');

    expect(findings.map((f) => [f.control, f.risk, f.change])).toEqual([
      [
        's3-default-encryption',
        'low',
        {
          service: 's3',
          operation: 'PutBucketEncryption',
          region: 'us-east-1',
          input: {
            Bucket: 'rampart-demo-logs',
            ExpectedBucketOwner: '111122223333',
            ServerSideEncryptionConfiguration: {
              Rules: [
                { ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: ARTIFACTS_KEY }, BucketKeyEnabled: true },
              ],
            },
          },
        },
      ],
      [
        'apigateway-throttling',
        'high',
        {
          service: 'apigateway',
          operation: 'UpdateStage',
          region: 'us-east-1',
          input: {
            restApiId: 'a1b2c3d4e5',
            stageName: 'prod',
            patchOperations: [
              { op: 'replace', path: '/*/*/throttling/rateLimit', value: '1000' },
              { op: 'replace', path: '/*/*/throttling/burstLimit', value: '500' },
            ],
          },
        },
      ],
    ]);
  });

  it('says change null and why when no fix can be planned', async () => {
    const noDefault = join(tmp, 'waf-any.yaml');
    writeFileSync(noDefault, 'controls:\n  apigateway-waf: {}\n');

    const result = await runCli([
      'replay',
      '--json',
      '--plan',
      '--config',
      noDefault,
      join(FIXTURES, 'wafv2-DisassociateWebACL.rest-stage-adapted.json'),
    ]);
    const [finding] = jsonLines(result.stdout);

    expect(finding).toMatchObject({
      type: 'finding',
      risk: 'low',
      change: null,
      reason: 'no web ACL to restore: the policy maps none to this stage, has no default, and none was recorded for it',
      violation: 'no WAF web ACL is attached to the stage',
    });
  });

  it('restores the ACL an earlier event showed the stage compliant with', async () => {
    const noDefault = join(tmp, 'waf-any-2.yaml');
    writeFileSync(noDefault, 'controls:\n  apigateway-waf: {}\n');
    const associate = fixture('wafv2-DisassociateWebACL.rest-stage-adapted.json');
    const detail = associate.detail as { eventName: string; eventTime: string; eventID: string; requestParameters: Record<string, string> };
    detail.eventName = 'AssociateWebACL';
    detail.eventTime = '2024-06-03T15:00:00Z';
    detail.eventID = 'earlier-association';
    detail.requestParameters.webACLArn = LEGACY_ACL;
    const file = join(tmp, 'story.ndjson');
    writeFileSync(file, `${JSON.stringify(associate)}\n${JSON.stringify(fixture('wafv2-DisassociateWebACL.rest-stage-adapted.json'))}\n`);

    const [finding] = jsonLines((await runCli(['replay', '--json', '--plan', '--config', noDefault, file])).stdout);

    expect(finding).toMatchObject({ change: { operation: 'AssociateWebACL', input: { WebACLArn: LEGACY_ACL } } });
  });

  it('shows planned changes and approvals in the table', async () => {
    const result = await runCli([
      'replay',
      '--plan',
      '--config',
      POLICY,
      join(FIXTURES, 'apigateway-UpdateStage.throttle-over-constructed.json'),
    ]);

    const text = result.stdout.replace(/\s+/g, ' ');
    expect(text).toContain(
      'would fix (needs approval, us-east-1): UpdateStage restApiId=a1b2c3d4e5 stageName=prod: replace /*/*/throttling/rateLimit',
    );
  });
});

describe('rampart remediate and replay --apply', () => {
  let aws: FakeAws;
  const sts = mockClient(STSClient);
  afterAll(() => sts.restore());
  beforeEach(() => {
    sts.reset();
    sts.on(GetCallerIdentityCommand).resolves({ Account: '111122223333', Arn: 'arn:aws:iam::111122223333:user/ops' });
    aws = new FakeAws();
    aws.buckets.set('rampart-demo-logs', { rule: { ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } } });
    aws.stages.set(PROD, { methodSettings: { '*/*': { throttlingRateLimit: 2000, throttlingBurstLimit: 1000 } } });
  });
  afterEach(() => aws.restore());

  async function findingLine(name: string): Promise<string> {
    const lines = jsonLines((await runCli(['replay', '--json', '--config', POLICY, join(FIXTURES, name)])).stdout);
    return JSON.stringify(lines.find((l) => l.type === 'finding'));
  }

  it('fixes one finding line, prints what changed, and exits 0 once verified', async () => {
    const result = await runCli([
      'remediate',
      '--config',
      POLICY,
      '--region',
      'us-east-1',
      '--finding',
      await findingLine('s3-DeleteBucketEncryption-constructed.json'),
    ]);

    expect(result.code).toBe(0);
    expect(result.stdout).toContain('s3-default-encryption  arn:aws:s3:::rampart-demo-logs: remediated');
    expect(result.stdout).toContain(`now: algorithm=aws:kms kmsKeyId=${ARTIFACTS_KEY} bucketKeyEnabled=true`);
    expect(aws.writes).toEqual(['PutBucketEncryption rampart-demo-logs']);
  });

  it('reads the finding from stdin with --finding - and prints JSON with --json', async () => {
    const result = await runCli(
      ['remediate', '--json', '--config', POLICY, '--finding', '-'],
      await findingLine('s3-DeleteBucketEncryption-constructed.json'),
    );

    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({
      type: 'remediation',
      outcome: 'remediated',
      resourceArn: 'arn:aws:s3:::rampart-demo-logs',
    });
  });

  it('exits 1 when the resource is not verified compliant', async () => {
    aws.buckets.delete('rampart-demo-logs');

    const result = await runCli([
      'remediate',
      '--config',
      POLICY,
      '--finding',
      await findingLine('s3-DeleteBucketEncryption-constructed.json'),
    ]);

    expect(result.code).toBe(1);
    expect(result.stdout).toContain('resource-gone');
  });

  it('refuses a finding of another account than the credentials act in, and writes nothing', async () => {
    sts.on(GetCallerIdentityCommand).resolves({ Account: '444455556666' });
    const line = JSON.parse(await findingLine('s3-DeleteBucketEncryption-constructed.json')) as { account: string };

    const result = await runCli(['remediate', '--config', POLICY, '--finding', JSON.stringify(line)]);

    expect(line.account).toBe('111122223333');
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('refused: the finding is in account 111122223333, the guard acts in 444455556666');
    expect(aws.s3).not.toHaveReceivedCommand(GetBucketEncryptionCommand);
    expect(aws.s3).not.toHaveReceivedCommand(PutBucketEncryptionCommand);
  });

  it('exits 2 on a finding that is not a finding', async () => {
    const result = await runCli(['remediate', '--config', POLICY, '--finding', '{"control":"s3-default-encryption"}']);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--finding: resourceArn: ');
  });

  it('applies low-risk fixes after a replay and leaves high-risk ones for approval', async () => {
    const result = await runCli([
      'replay',
      '--apply',
      '--config',
      POLICY,
      join(FIXTURES, 's3-DeleteBucketEncryption-constructed.json'),
      join(FIXTURES, 'apigateway-UpdateStage.throttle-over-constructed.json'),
    ]);

    expect(result.code).toBe(1);
    expect(result.stderr).toContain('s3-default-encryption  arn:aws:s3:::rampart-demo-logs: remediated');
    expect(result.stderr).toContain(
      `skipped apigateway-throttling ${PROD}: a high-risk fix; it needs approval (--include-high-risk applies it)`,
    );
    expect(aws.writes).toEqual(['PutBucketEncryption rampart-demo-logs']);
  });

  it('applies high-risk fixes too with --include-high-risk', async () => {
    const result = await runCli([
      'replay',
      '--apply',
      '--include-high-risk',
      '--json',
      '--config',
      POLICY,
      join(FIXTURES, 'apigateway-UpdateStage.throttle-over-constructed.json'),
    ]);

    expect(result.code).toBe(0);
    expect(jsonLines(result.stdout).map((l) => l.type)).toEqual(['finding', 'summary', 'remediation']);
    expect(aws.stages.get(PROD)?.methodSettings['*/*']).toEqual({ throttlingRateLimit: 1000, throttlingBurstLimit: 500 });
  });

  it('applies nothing when the policy is in dry-run mode', async () => {
    const dryRun = join(tmp, 'dry.yaml');
    writeFileSync(dryRun, `mode: dry-run\ncontrols:\n  s3-default-encryption: { algorithm: "aws:kms", kmsKeyId: "${ARTIFACTS_KEY}" }\n`);

    const result = await runCli(['replay', '--apply', '--config', dryRun, join(FIXTURES, 's3-DeleteBucketEncryption-constructed.json')]);

    expect(result.stderr).toContain('the policy is in dry-run mode: nothing applied');
    expect(aws.writes).toEqual([]);
  });
});

describe("rampart remediate and scan --fix count against the deployed guard's fix budget", () => {
  let aws: FakeAws;
  const sts = mockClient(STSClient);
  const ddb = mockClient(DynamoDBDocumentClient);
  const BUDGET_KEY = { pk: 'FIXES#111122223333#s3-default-encryption#arn:aws:s3:::rampart-demo-logs', sk: 'BUDGET' };
  let items: Map<string, Record<string, unknown>>;
  afterAll(() => {
    sts.restore();
    ddb.restore();
  });
  beforeEach(() => {
    sts.reset();
    sts.on(GetCallerIdentityCommand).resolves({ Account: '111122223333' });
    ddb.reset();
    items = new Map();
    // the guard table, as far as the ledger uses it (one item per resource, versioned)
    ddb.on(GetCommand).callsFake(async (input: { TableName: string; Key: { pk: string } }) => {
      const item = items.get(`${input.TableName}|${input.Key.pk}`);
      return item ? { Item: structuredClone(item) } : {};
    });
    ddb
      .on(UpdateCommand)
      .callsFake(
        async (input: {
          TableName: string;
          Key: { pk: string; sk: string };
          ConditionExpression: string;
          ExpressionAttributeValues: Record<string, unknown>;
        }) => {
          const key = `${input.TableName}|${input.Key.pk}`;
          const current = items.get(key);
          const holds =
            input.ConditionExpression === 'attribute_not_exists(pk)'
              ? !current
              : current?.version === input.ExpressionAttributeValues[':version'];
          if (!holds) throw new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });
          items.set(key, {
            ...input.Key,
            fixes: input.ExpressionAttributeValues[':fixes'],
            version: input.ExpressionAttributeValues[':next'],
          });
          return {};
        },
      );
    aws = new FakeAws();
    aws.buckets.set('rampart-demo-logs', { region: 'us-east-1', rule: { ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } } });
  });
  afterEach(() => {
    aws.restore();
    delete process.env.RAMPART_TABLE;
  });

  async function findingLine(): Promise<string> {
    const lines = jsonLines(
      (await runCli(['replay', '--json', '--config', POLICY, join(FIXTURES, 's3-DeleteBucketEncryption-constructed.json')])).stdout,
    );
    return JSON.stringify(lines.find((l) => l.type === 'finding'));
  }

  it('remediate --table counts the fix in the table', async () => {
    const result = await runCli(['remediate', '--config', POLICY, '--table', 'guard-table', '--finding', await findingLine()]);

    expect(result.code).toBe(0);
    expect(ddb).toHaveReceivedCommandWith(UpdateCommand, { TableName: 'guard-table', Key: BUDGET_KEY });
    expect((items.get(`guard-table|${BUDGET_KEY.pk}`)?.fixes as string[]).length).toBe(1);
  });

  it('remediate stops with loop-suspected when the guard spent the budget (RAMPART_TABLE)', async () => {
    process.env.RAMPART_TABLE = 'env-table';
    const now = new Date().toISOString();
    items.set(`env-table|${BUDGET_KEY.pk}`, { ...BUDGET_KEY, fixes: [now, now, now], version: 3 });

    const result = await runCli(['remediate', '--config', POLICY, '--finding', await findingLine()]);

    expect(result.code).toBe(1);
    expect(result.stdout).toContain('loop-suspected');
    expect(aws.writes).toEqual([]);
  });

  it("remediate counts a finding that does not say its account against the budget of the credentials' account, where the fix lands", async () => {
    const { account: _account, ...line } = JSON.parse(await findingLine()) as Record<string, unknown>;

    const result = await runCli(['remediate', '--config', POLICY, '--table', 'guard-table', '--finding', JSON.stringify(line)]);

    expect(result.code).toBe(0);
    expect(ddb).toHaveReceivedCommandWith(UpdateCommand, { TableName: 'guard-table', Key: BUDGET_KEY });
  });

  it('scan --fix counts its fixes in the table named by RAMPART_TABLE', async () => {
    process.env.RAMPART_TABLE = 'env-table';

    await runCli(['scan', '--fix', '--control', 's3-default-encryption', '--config', POLICY, '--region', 'us-east-1']);

    expect(aws.writes).toEqual(['PutBucketEncryption rampart-demo-logs']);
    expect((items.get(`env-table|${BUDGET_KEY.pk}`)?.fixes as string[]).length).toBe(1);
  });

  it('without a table, a fix counts in a ledger of the run only', async () => {
    await runCli(['remediate', '--config', POLICY, '--finding', await findingLine()]);

    expect(aws.writes).toEqual(['PutBucketEncryption rampart-demo-logs']);
    expect(ddb).not.toHaveReceivedCommand(UpdateCommand);
  });
});
