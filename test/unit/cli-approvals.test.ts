import { DynamoDBDocumentClient, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { SFNClient, SendTaskSuccessCommand } from '@aws-sdk/client-sfn';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { runCli } from '../helpers';

const APPROVAL = {
  pk: 'APPROVAL#f1-1',
  sk: 'STATE',
  pendingApproval: 'PENDING',
  id: 'f1-1',
  findingId: 'f1',
  taskToken: 'secret-token',
  finding: { control: 'apigateway-throttling', resourceArn: 'arn:aws:apigateway:us-east-1::/restapis/a1/stages/prod' },
  change: { service: 'apigateway', operation: 'UpdateStage', region: 'us-east-1', input: { restApiId: 'a1' } },
  createdAt: '2024-06-03T16:00:00.000Z',
  expiresAt: '2024-06-04T16:00:00.000Z',
  status: 'pending',
};

describe('rampart approvals', () => {
  const ddb = mockClient(DynamoDBDocumentClient);
  const sts = mockClient(STSClient);
  const sfn = mockClient(SFNClient);
  beforeEach(() => {
    ddb.reset();
    sts.reset();
    sfn.reset();
  });
  afterAll(() => {
    ddb.restore();
    sts.restore();
    sfn.restore();
  });

  it('lists pending requests without their task tokens', async () => {
    ddb.on(QueryCommand).resolves({ Items: [APPROVAL] });

    const table = await runCli(['approvals', 'list', '--table', 'tbl']);
    const json = await runCli(['approvals', 'list', '--table', 'tbl', '--json']);

    expect(table.stdout).toMatch(/^ID +CONTROL +RESOURCE +CHANGE +EXPIRES\nf1-1 +apigateway-throttling/);
    expect(json.stdout).not.toContain('secret-token');
    expect(JSON.parse(json.stdout)).toMatchObject({ id: 'f1-1', status: 'pending' });
  });

  it('approves as the caller, recording who decided, and resumes the workflow', async () => {
    sts.on(GetCallerIdentityCommand).resolves({ Arn: 'arn:aws:sts::111122223333:assumed-role/SecOps/alice' });
    ddb.on(UpdateCommand).resolves({ Attributes: { ...APPROVAL, status: 'approved' } });
    sfn.on(SendTaskSuccessCommand).resolves({});

    const result = await runCli(['approvals', 'approve', 'f1-1', '--table', 'tbl']);

    expect(result.code).toBe(0);
    expect(ddb).toHaveReceivedCommandWith(UpdateCommand, { ExpressionAttributeValues: expect.objectContaining({ ':by': 'iam:arn:aws:sts::111122223333:assumed-role/SecOps/alice', ':status': 'approved' }) });
    expect(sfn).toHaveReceivedCommandWith(SendTaskSuccessCommand, {
      taskToken: 'secret-token',
      output: JSON.stringify({ decision: 'approve', by: 'iam:arn:aws:sts::111122223333:assumed-role/SecOps/alice' }),
    });
  });

  it('asks which table when none is given', async () => {
    delete process.env.RAMPART_TABLE;

    const result = await runCli(['approvals', 'list']);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('pass --table <name> or set RAMPART_TABLE');
  });
});
