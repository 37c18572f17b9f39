import { DynamoDBDocumentClient, GetCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { SFNClient, SendTaskSuccessCommand } from '@aws-sdk/client-sfn';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { mockClient } from 'aws-sdk-client-mock';
import { callerMatches } from '../../core/principals';
import { runCli } from '../helpers';

const ID = '3f1c2b9e-8d7a-4c6b-9e5f-0a1b2c3d4e5f';
const APPROVAL = {
  pk: `APPROVAL#${ID}`,
  sk: 'STATE',
  pendingApproval: 'PENDING',
  id: ID,
  findingId: 'f1',
  generation: 1,
  taskToken: 'secret-token',
  finding: {
    control: 'apigateway-throttling',
    resourceArn: 'arn:aws:apigateway:us-east-1::/restapis/a1/stages/prod',
    actor: { type: 'AssumedRole', arn: 'arn:aws:sts::111122223333:assumed-role/Developer/mallory' },
  },
  change: { service: 'apigateway', operation: 'UpdateStage', region: 'us-east-1', input: { restApiId: 'a1' } },
  createdAt: '2024-06-03T16:00:00.000Z',
  expiresAt: '2999-06-04T16:00:00.000Z',
  status: 'pending',
  // what the deployed policy said: the CLI checks this list, not a local file
  rules: {
    approvers: { slackUserIds: [], emails: [], iamPrincipalArns: ['arn:aws:iam::111122223333:role/ops/SecOps'] },
    allowSelfApproval: false,
  },
};

describe('rampart approvals', () => {
  const ddb = mockClient(DynamoDBDocumentClient);
  const sts = mockClient(STSClient);
  const sfn = mockClient(SFNClient);
  beforeEach(() => {
    ddb.reset();
    sts.reset();
    sfn.reset();
    ddb.on(GetCommand).resolves({ Item: APPROVAL });
  });
  afterAll(() => {
    ddb.restore();
    sts.restore();
    sfn.restore();
  });

  it('lists pending requests without their task tokens', async () => {
    ddb.on(QueryCommand).resolves({ Items: [APPROVAL, { ...APPROVAL, id: 'decided-not-delivered', status: 'approved' }] });

    const table = await runCli(['approvals', 'list', '--table', 'tbl']);
    const json = await runCli(['approvals', 'list', '--table', 'tbl', '--json']);

    expect(table.stdout).toMatch(new RegExp(`^ID +CONTROL +RESOURCE +CHANGE +EXPIRES\\n${ID} +apigateway-throttling`));
    expect(table.stdout).not.toContain('decided-not-delivered');
    expect(json.stdout).not.toContain('secret-token');
    expect(JSON.parse(json.stdout)).toMatchObject({ id: ID, status: 'pending' });
  });

  it('approves as a role session of a listed role, recording who decided, and resumes the workflow', async () => {
    sts.on(GetCallerIdentityCommand).resolves({ Arn: 'arn:aws:sts::111122223333:assumed-role/SecOps/alice' });
    ddb
      .on(UpdateCommand)
      .resolves({ Attributes: { ...APPROVAL, status: 'approved', decidedBy: 'iam:arn:aws:sts::111122223333:assumed-role/SecOps/alice' } });
    sfn.on(SendTaskSuccessCommand).resolves({});

    const result = await runCli(['approvals', 'approve', ID, '--table', 'tbl']);

    expect(result.code).toBe(0);
    expect(ddb).toHaveReceivedCommandWith(UpdateCommand, {
      ExpressionAttributeValues: expect.objectContaining({
        ':by': 'iam:arn:aws:sts::111122223333:assumed-role/SecOps/alice',
        ':status': 'approved',
      }),
    });
    expect(sfn).toHaveReceivedCommandWith(SendTaskSuccessCommand, {
      taskToken: 'secret-token',
      output: JSON.stringify({ decision: 'approve', by: 'iam:arn:aws:sts::111122223333:assumed-role/SecOps/alice' }),
    });
  });

  it.each([
    ['a caller whose role is not listed', 'arn:aws:sts::111122223333:assumed-role/Developer/bob', 'is not an approver'],
    ['a listed role in another account', 'arn:aws:sts::444455556666:assumed-role/SecOps/alice', 'is not an approver'],
    [
      'the actor whose change caused the finding',
      'arn:aws:sts::111122223333:assumed-role/SecOps/mallory',
      'You made the change that caused this finding',
    ],
  ])('refuses %s and decides nothing', async (_, arn, message) => {
    sts.on(GetCallerIdentityCommand).resolves({ Arn: arn });

    const result = await runCli(['approvals', 'approve', ID, '--table', 'tbl']);

    expect(result.code).toBe(1);
    expect(result.stderr).toContain(message);
    expect(ddb).not.toHaveReceivedCommand(UpdateCommand);
    expect(sfn).not.toHaveReceivedCommand(SendTaskSuccessCommand);
  });

  it('refuses everyone on a request that carries no approver list (fail closed)', async () => {
    const { rules: _rules, ...old } = APPROVAL;
    ddb.on(GetCommand).resolves({ Item: old });
    sts.on(GetCallerIdentityCommand).resolves({ Arn: 'arn:aws:sts::111122223333:assumed-role/SecOps/alice' });

    const result = await runCli(['approvals', 'reject', ID, '--table', 'tbl']);

    expect(result.code).toBe(1);
    expect(ddb).not.toHaveReceivedCommand(UpdateCommand);
  });

  it('asks which table when none is given and no guard stack is deployed', async () => {
    delete process.env.RAMPART_TABLE;
    const cfn = mockClient(CloudFormationClient);
    // what CloudFormation answers for a stack name it does not know
    cfn.on(DescribeStacksCommand).rejects(Object.assign(new Error('Stack with id Rampart does not exist'), { name: 'ValidationError' }));

    const result = await runCli(['approvals', 'list']);
    cfn.restore();

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('no stack Rampart in us-east-1: pass --stack <name> or --table <name> (or set RAMPART_TABLE)');
  });

  it("finds the table from the deployed stack's TableName output (--stack)", async () => {
    delete process.env.RAMPART_TABLE;
    const cfn = mockClient(CloudFormationClient);
    cfn.on(DescribeStacksCommand, { StackName: 'GuardProd' }).resolves({
      Stacks: [
        {
          StackName: 'GuardProd',
          StackStatus: 'UPDATE_COMPLETE',
          CreationTime: new Date('2026-11-01T00:00:00Z'),
          // the output key the CDK gives the TableName output of the Guard construct
          Outputs: [{ OutputKey: 'GuardTableNameFD860DF2', OutputValue: 'GuardProd-FindingsTable1A2B' }],
        },
      ],
    });
    ddb.on(QueryCommand).resolves({ Items: [] });

    const result = await runCli(['approvals', 'list', '--stack', 'GuardProd']);
    cfn.restore();

    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(ddb.commandCalls(QueryCommand)[0]!.args[0].input.TableName).toBe('GuardProd-FindingsTable1A2B');
  });
});

describe('callerMatches', () => {
  it('matches a role session to its role ARN, whatever the path, in the same account and partition only', () => {
    const session = 'arn:aws:sts::111122223333:assumed-role/SecOps/alice@example.com';

    expect(callerMatches(session, 'arn:aws:iam::111122223333:role/SecOps')).toBe(true);
    expect(callerMatches(session, 'arn:aws:iam::111122223333:role/teams/security/SecOps')).toBe(true);
    expect(callerMatches(session, 'arn:aws:iam::111122223333:role/SecOpsAdmin')).toBe(false);
    expect(callerMatches(session, 'arn:aws:iam::111122223333:user/SecOps')).toBe(false);
    expect(callerMatches(session, 'arn:aws-us-gov:iam::111122223333:role/SecOps')).toBe(false);
    expect(callerMatches('arn:aws:iam::111122223333:user/alice', 'arn:aws:iam::111122223333:user/alice')).toBe(true);
    expect(callerMatches('arn:aws:iam::111122223333:user/alice', 'arn:aws:iam::111122223333:role/alice')).toBe(false);
  });
});
