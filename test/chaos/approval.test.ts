import { SFNClient, SendTaskFailureCommand, SendTaskSuccessCommand } from '@aws-sdk/client-sfn';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { approvalLink } from '../../core/approval-links';
import type { Finding } from '../../core/finding';
import { InMemoryApprovalStore, InMemoryFindingsStore, type ApprovalRecord } from '../../core/stores';
import { expireApproval } from '../../remediators/approval-decision';
import { makeApprovalCallbackHandler } from '../../handlers/approval-callback';
import type { GuardDeps } from '../../handlers/deps';
import { EXAMPLE_POLICY_INPUT, policy } from '../helpers';
import { recordChaos, type ChaosOutcome } from './tally';

/**
 * The approval path under faults: an approver clicks their signed link while Step Functions or
 * the approvals table fails (once, for good, or because the workflow stopped waiting). Whatever
 * happens, the approval record must say what really happened (never `approved` for a decision
 * the workflow did not take), the approver must be told the truth, and the finding must end:
 * a decision that could not get through leaves the request pending, so the workflow's approval
 * timeout closes it as `expired` (Notify), which is checked here too.
 *
 * Rampart resumes the workflow with SendTaskSuccess for both decisions (a rejection is an
 * output, not a task failure): SendTaskFailure is never called, which the matrix asserts.
 */

const SECRET = 'k'.repeat(64);
const BASE = 'https://abc123.execute-api.us-east-1.amazonaws.com/approvals/';
const NOW = new Date('2024-06-03T16:00:00Z');
const LATER = new Date('2024-06-04T16:00:00Z');
const ALICE = 'alice@example.com';

const FINDING: Finding = {
  id: 'f1',
  control: 'apigateway-throttling',
  severity: 'medium',
  resourceArn: 'arn:aws:apigateway:us-east-1::/restapis/a1/stages/prod',
  resourceType: 'AWS::ApiGateway::Stage',
  observed: {},
  desired: {},
  violation: 'rate too high',
  eventId: 'e1',
  actor: { type: 'IAMUser', arn: 'arn:aws:iam::111122223333:user/mallory', userName: 'mallory' },
};

const APPROVAL: ApprovalRecord = {
  id: '3f1c2b9e-8d7a-4c6b-9e5f-0a1b2c3d4e5f',
  findingId: 'f1',
  generation: 1,
  taskToken: 'token-1',
  finding: FINDING,
  change: {
    service: 'apigateway',
    operation: 'UpdateStage',
    region: 'us-east-1',
    input: { restApiId: 'a1', stageName: 'prod', patchOperations: [] },
  },
  createdAt: NOW.toISOString(),
  expiresAt: LATER.toISOString(),
  status: 'pending',
};

const awsError = (name: string, status: number, fault: 'client' | 'server' = 'server') =>
  Object.assign(new Error(name), { name, $fault: fault, $metadata: { httpStatusCode: status } });
const TRANSIENT: Record<string, () => Error> = {
  'throttling-once': () => awsError('ThrottlingException', 400, 'client'),
  '5xx-once': () => awsError('ServiceUnavailable', 503),
  'timeout-once': () => Object.assign(new Error('socket hang up'), { name: 'TimeoutError' }),
};

/** The task waiting for the token: what Step Functions would answer. */
type WorkflowState =
  | { waiting: true }
  | { waiting: false; why: 'TaskTimedOut' | 'TaskDoesNotExist'; took?: undefined }
  | { waiting: false; took: { decision: string; by: string } };

interface Case {
  call: string;
  fault: string;
  decision: 'approve' | 'reject';
  /** Where the fault sits. */
  inject: (harness: Harness) => void;
}

class Harness {
  readonly sfn = mockClient(SFNClient);
  readonly approvals = new InMemoryApprovalStore();
  readonly findings = new InMemoryFindingsStore();
  workflow: WorkflowState = { waiting: true };
  /** Faults on SendTaskSuccess, consumed in order; `always` keeps failing. */
  sfnFaults: Array<'lost-response' | (() => Error)> = [];
  sfnAlways?: () => Error;
  readonly handler: ReturnType<typeof makeApprovalCallbackHandler>;
  private readonly heals: Array<() => void> = [];

  /** The faults clear (the workflow's own tasks, Notify included, have their matrix elsewhere). */
  heal(): void {
    this.sfnAlways = undefined;
    this.sfnFaults = [];
    for (const heal of this.heals.splice(0)) heal();
  }

  constructor() {
    this.sfn.on(SendTaskSuccessCommand).callsFake((input: { output: string }) => {
      if (this.sfnAlways) throw this.sfnAlways();
      const fault = this.sfnFaults.shift();
      if (fault && fault !== 'lost-response') throw fault();
      if (!this.workflow.waiting) throw awsError(this.workflow.took ? 'TaskTimedOut' : this.workflow.why, 400, 'client');
      this.workflow = { waiting: false, took: JSON.parse(input.output) as { decision: string; by: string } };
      if (fault === 'lost-response') throw TRANSIENT['timeout-once']!();
      return {};
    });
    const deps = {
      policy: policy({ ...EXAMPLE_POLICY_INPUT, approvals: { approvers: { emails: [ALICE] } } }),
      approvals: this.approvals,
      findings: this.findings,
      sfn: new SFNClient({ region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } }),
      secrets: { get: async () => SECRET },
      config: { approvalSecretArn: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:approvals' },
      clock: () => NOW,
    } as unknown as GuardDeps;
    this.handler = makeApprovalCallbackHandler(
      () => deps,
      undefined,
      async () => undefined,
    );
  }

  async setUp(): Promise<void> {
    await this.approvals.create(structuredClone(APPROVAL));
    await this.findings.open(FINDING, NOW);
  }

  /** Fails a store method: `times` calls (Infinity: for good); `lost` applies the write, then fails. */
  failStore(store: 'approvals' | 'findings', method: string, times: number, make: () => Error, lost = false): void {
    const target = this[store] as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
    const real = target[method]!.bind(target);
    this.heals.push(() => (target[method] = real));
    let left = times;
    target[method] = async (...args: unknown[]) => {
      if (left-- <= 0) return real(...args);
      if (lost) await real(...args);
      throw make();
    };
  }

  click(decision: 'approve' | 'reject'): Promise<{ statusCode: number; body: string }> {
    const url = new URL(approvalLink(SECRET, BASE, APPROVAL.id, decision, LATER, ALICE));
    return this.handler({
      httpMethod: 'POST',
      resource: '/approvals/{id}/{decision}',
      path: url.pathname,
      pathParameters: { id: APPROVAL.id, decision },
      queryStringParameters: Object.fromEntries(url.searchParams),
      headers: {},
      body: null,
      isBase64Encoded: false,
    } as unknown as APIGatewayProxyEvent);
  }
}

const CASES: Case[] = (['approve', 'reject'] as const).flatMap((decision) => [
  ...Object.entries(TRANSIENT).map(([fault, make]) => ({
    call: 'sfn:SendTaskSuccess',
    fault,
    decision,
    inject: (h: Harness) => h.sfnFaults.push(make),
  })),
  { call: 'sfn:SendTaskSuccess', fault: 'lost-response', decision, inject: (h: Harness) => h.sfnFaults.push('lost-response') },
  { call: 'sfn:SendTaskSuccess', fault: 'always', decision, inject: (h: Harness) => (h.sfnAlways = TRANSIENT['5xx-once']) },
  ...(['TaskTimedOut', 'TaskDoesNotExist'] as const).map((why) => ({
    call: 'sfn:SendTaskSuccess',
    fault: why,
    decision,
    inject: (h: Harness) => (h.workflow = { waiting: false, why }),
  })),
  ...Object.entries(TRANSIENT).map(([fault, make]) => ({
    call: 'dynamodb:UpdateItem(approval)',
    fault,
    decision,
    inject: (h: Harness) => h.failStore('approvals', 'decide', 1, make),
  })),
  {
    call: 'dynamodb:UpdateItem(approval)',
    fault: 'lost-response',
    decision,
    inject: (h: Harness) => h.failStore('approvals', 'decide', 1, TRANSIENT['timeout-once']!, true),
  },
  {
    call: 'dynamodb:UpdateItem(approval)',
    fault: 'always',
    decision,
    inject: (h: Harness) => h.failStore('approvals', 'decide', Infinity, TRANSIENT['5xx-once']!),
  },
  {
    call: 'dynamodb:GetItem(approval)',
    fault: 'always',
    decision,
    inject: (h: Harness) => h.failStore('approvals', 'get', Infinity, TRANSIENT['5xx-once']!),
  },
  {
    call: 'dynamodb:UpdateItem(approval delivered)',
    fault: 'always',
    decision,
    inject: (h: Harness) => h.failStore('approvals', 'markDelivered', Infinity, TRANSIENT['5xx-once']!),
  },
  {
    call: 'dynamodb:UpdateItem(finding history)',
    fault: 'always',
    decision,
    inject: (h: Harness) => h.failStore('findings', 'update', Infinity, TRANSIENT['5xx-once']!),
  },
  {
    call: 'sfn:SendTaskSuccess + dynamodb:UpdateItem(release)',
    fault: 'always',
    decision,
    inject: (h: Harness) => ((h.sfnAlways = TRANSIENT['5xx-once']), h.failStore('approvals', 'release', Infinity, TRANSIENT['5xx-once']!)),
  },
]);

describe('approval decisions under faults (fault matrix)', () => {
  let h: Harness;
  beforeEach(async () => {
    h = new Harness();
    await h.setUp();
  });
  afterEach(() => h.sfn.restore());

  it.each(CASES.map((c) => [`${c.call} ${c.fault} (${c.decision})`, c] as const))(
    '%s: the recorded decision is true and nothing is lost',
    async (_, c) => {
      c.inject(h);
      const decided = c.decision === 'approve' ? 'approved' : 'rejected';

      const answer = await h.click(c.decision);
      h.heal();
      // the workflow's approval timeout, if it still waits: what Notify does on `expired`
      if (h.workflow.waiting) {
        h.workflow = { waiting: false, why: 'TaskTimedOut' };
        await expireApproval(h.approvals, FINDING.id, 1, LATER);
      }
      const record = (await h.approvals.get(APPROVAL.id))!;

      // what really happened, against what is recorded and what the approver was told
      const took = h.workflow.took;
      const recordTrue = took
        ? record.status === decided && record.decidedBy === ALICE
        : record.status === 'expired' || record.status === 'withdrawn';
      const toldTrue = took ? answer.statusCode === 200 : answer.statusCode !== 200;
      const notesWhy = took || record.note !== undefined;
      const outcome: ChaosOutcome = recordTrue && toldTrue && notesWhy ? 'recovered' : 'stuck';
      recordChaos({ path: 'approval', call: c.call, fault: c.fault, outcome });

      expect({ record: record.status, told: answer.statusCode, took: took?.decision, note: record.note }).toEqual(
        took
          ? { record: decided, told: 200, took: c.decision, note: undefined }
          : {
              record: c.fault === 'TaskDoesNotExist' ? 'withdrawn' : 'expired',
              told: expect.any(Number),
              took: undefined,
              note: expect.any(String),
            },
      );
      expect(outcome).toBe('recovered');
      expect(h.sfn).not.toHaveReceivedCommand(SendTaskFailureCommand);
    },
  );

  it('lets the approver decide again after a fault that left the request pending', async () => {
    h.failStore('approvals', 'decide', 3, TRANSIENT['5xx-once']!);

    const first = await h.click('approve');
    const again = await h.click('approve');

    expect([first.statusCode, again.statusCode]).toEqual([503, 200]);
    expect(first.body).toContain('nothing was decided and the request still waits');
    expect(await h.approvals.get(APPROVAL.id)).toMatchObject({ status: 'approved', decidedBy: ALICE, deliveredAt: NOW.toISOString() });
    expect(h.workflow).toEqual({ waiting: false, took: { decision: 'approve', by: ALICE } });
  });

  it('undoes a claimed decision the workflow never took, so the request can still be decided', async () => {
    h.sfnAlways = TRANSIENT['5xx-once'];

    const failed = await h.click('approve');
    const pendingAfter = await h.approvals.get(APPROVAL.id);
    h.sfnAlways = undefined;
    const retried = await h.click('reject');

    expect(failed.statusCode).toBe(503);
    expect(pendingAfter).toMatchObject({ status: 'pending' });
    expect(retried.statusCode).toBe(200);
    expect(h.workflow).toEqual({ waiting: false, took: { decision: 'reject', by: ALICE } });
  });
});
