import type { ApprovalRecord } from '../core/stores';

/** A pending approval of a high-risk throttling fix (built field by field on core/stores.ts ApprovalRecord). */
export const PENDING: ApprovalRecord = {
  id: '6f1c2b9e-0d4a-4e57-9a1b-2c3d4e5f6a7b',
  findingId: '0123456789abcdef01234567',
  generation: 1717430400000,
  taskToken: 'token',
  finding: {
    id: '0123456789abcdef01234567',
    control: 'apigateway-throttling',
    severity: 'high',
    resourceArn: 'arn:aws:apigateway:eu-west-1::/restapis/a1b2c3d4e5/stages/prod',
    resourceType: 'AWS::ApiGateway::Stage',
    region: 'eu-west-1',
    account: '111122223333',
    observed: { rateLimit: 5000, burstLimit: 2500, methods: { 'GET /pets': { rateLimit: 100 } } },
    desired: { rateLimit: 100, burstLimit: 50 },
    violation: 'stage throttling allows 5000 requests/s (burst 2500); the policy allows 100 (burst 50)',
    eventId: 'e1',
    eventName: 'UpdateStage',
    eventTime: '2024-06-03T15:42:10Z',
    actor: { type: 'AssumedRole', arn: 'arn:aws:sts::111122223333:assumed-role/Deployer/mallory' },
  },
  change: {
    service: 'apigateway',
    operation: 'UpdateStage',
    region: 'eu-west-1',
    input: {
      restApiId: 'a1b2c3d4e5',
      stageName: 'prod',
      patchOperations: [
        { op: 'replace', path: '/*/*/throttling/rateLimit', value: '100' },
        { op: 'replace', path: '/*/*/throttling/burstLimit', value: '50' },
      ],
    },
  },
  createdAt: '2024-06-03T16:00:00.000Z',
  expiresAt: '2024-06-04T16:00:00.000Z',
  status: 'pending',
  reason: 'The policy sets risk: high for apigateway-throttling: every fix it plans waits for a named approver.',
  rules: {
    approvers: {
      emails: ['alice@example.com', 'bob@example.com'],
      slackUserIds: ['U0ALICE'],
      iamPrincipalArns: ['arn:aws:iam::111122223333:role/SecOps'],
    },
    allowSelfApproval: false,
  },
};
