import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { SFNClient, SendTaskSuccessCommand } from '@aws-sdk/client-sfn';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { approvalLink, checkApprovalLink, checkSlackRequest, slackSignature } from '../../core/approval-links';
import type { Actor, Finding } from '../../core/finding';
import type { Policy, PolicyInput } from '../../controls/policy';
import { InMemoryApprovalStore, InMemoryFindingsStore, type ApprovalRecord } from '../../core/stores';
import { makeApprovalCallbackHandler } from '../../handlers/approval-callback';
import type { GuardDeps } from '../../handlers/deps';
import { makeWorkflowHandlers } from '../../handlers/workflow';
import { EXAMPLE_POLICY_INPUT, policy as makePolicy } from '../helpers';

const SECRET = 'k'.repeat(64);
const SLACK_SECRET = 'slack-signing-secret';
const BASE = 'https://abc123.execute-api.us-east-1.amazonaws.com/approvals/';
const NOW = new Date('2024-06-03T16:00:00Z');
const LATER = new Date('2024-06-04T16:00:00Z');
const TEAM = 'T0RAMPART';
const APP = 'A0RAMPART';
const RESPONSE_URL = 'https://hooks.slack.com/actions/T0RAMPART/123/abc';

const POLICY_INPUT: PolicyInput = {
  ...EXAMPLE_POLICY_INPUT,
  notifications: {
    slack: {
      webhookSecretArn: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:slack-webhook',
      signingSecretArn: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:slack',
      teamId: TEAM,
      appId: APP,
    },
  },
  approvals: {
    approvers: {
      slackUserIds: ['U0ALICE', 'U0MALLORY'],
      emails: ['alice@example.com', 'mallory@example.com'],
      iamPrincipalArns: ['arn:aws:iam::111122223333:role/SecOps'],
    },
  },
};

// IAM Identity Center names the session after the user's email; the Slack handle matches the IAM user name
const MALLORY_SSO: Actor = {
  type: 'AssumedRole',
  arn: 'arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Admin_0123456789abcdef/mallory@example.com',
};
const MALLORY_IAM: Actor = { type: 'IAMUser', arn: 'arn:aws:iam::111122223333:user/mallory', userName: 'mallory' };

const FINDING = (actor: Actor = MALLORY_SSO): Finding => ({
  id: 'f1',
  control: 'apigateway-throttling',
  severity: 'medium',
  resourceArn: 'arn:aws:apigateway:us-east-1::/restapis/a1/stages/prod',
  resourceType: 'AWS::ApiGateway::Stage',
  observed: {},
  desired: {},
  violation: 'rate <b>too</b> high',
  eventId: 'e1',
  actor,
});

const record = (id: string, actor?: Actor): ApprovalRecord => ({
  id,
  findingId: 'f1',
  generation: 1,
  taskToken: `token-of-${id}`,
  finding: FINDING(actor),
  change: {
    service: 'apigateway',
    operation: 'UpdateStage',
    region: 'us-east-1',
    input: { restApiId: 'a1', stageName: 'prod', patchOperations: [] },
  },
  createdAt: NOW.toISOString(),
  expiresAt: LATER.toISOString(),
  status: 'pending',
});

function linkEvent(
  url: string,
  httpMethod: 'GET' | 'POST',
  override: Partial<{ id: string; sig: string; by: string }> = {},
): APIGatewayProxyEvent {
  const u = new URL(url);
  const [, , , id, decision] = u.pathname.split('/');
  const query = Object.fromEntries(u.searchParams);
  if (override.sig) query.sig = override.sig;
  if (override.by) query.by = override.by;
  return {
    httpMethod,
    resource: '/approvals/{id}/{decision}',
    path: u.pathname,
    pathParameters: { id: override.id ?? decodeURIComponent(id!), decision: decision! },
    queryStringParameters: query,
    headers: {},
    body: null,
    isBase64Encoded: false,
  } as unknown as APIGatewayProxyEvent;
}

function slackEvent(body: string, timestamp: number, signature: string): APIGatewayProxyEvent {
  return {
    httpMethod: 'POST',
    resource: '/slack/interactions',
    path: '/approvals/slack/interactions',
    pathParameters: null,
    queryStringParameters: null,
    headers: {
      'Content-Type': 'application/x-www-form-urlencoded',
      'X-Slack-Request-Timestamp': String(timestamp),
      'X-Slack-Signature': signature,
    },
    body,
    isBase64Encoded: false,
  } as unknown as APIGatewayProxyEvent;
}

interface Click {
  action?: 'approve' | 'reject';
  id?: string;
  user?: { id: string; username: string; team_id?: string };
  teamId?: string;
  appId?: string;
  responseUrl?: string;
}

/** A block_actions payload with the fields https://docs.slack.dev/reference/interaction-payloads/block_actions-payload lists (constructed). */
const slackBody = (click: Click = {}) =>
  `payload=${encodeURIComponent(
    JSON.stringify({
      type: 'block_actions',
      api_app_id: click.appId ?? APP,
      team: { id: click.teamId ?? TEAM, domain: 'rampart' },
      user: click.user ?? { id: 'U0ALICE', username: 'alice', team_id: click.teamId ?? TEAM },
      container: { type: 'message', message_ts: '1717430400.000100', channel_id: 'C0SECOPS', is_ephemeral: false },
      trigger_id: '1234567890.123456789.abcdef',
      channel: { id: 'C0SECOPS', name: 'secops' },
      response_url: click.responseUrl ?? RESPONSE_URL,
      actions: [
        {
          type: 'button',
          action_id: click.action ?? 'approve',
          block_id: 'rampart-approval',
          value: click.id ?? 'a-1',
          action_ts: '1717430401.000200',
        },
      ],
    }),
  )}`;

describe('approval links', () => {
  it('round-trips a signed link bound to its approver and refuses a tampered one', () => {
    const url = new URL(approvalLink(SECRET, BASE, 'a-1', 'approve', LATER, 'alice@example.com'));
    const link = {
      id: 'a-1',
      decision: 'approve',
      exp: url.searchParams.get('exp') ?? undefined,
      by: url.searchParams.get('by') ?? undefined,
      sig: url.searchParams.get('sig') ?? undefined,
    };

    expect(url.pathname).toBe('/approvals/approvals/a-1/approve');
    expect(link.by).toBe('alice@example.com');
    expect(checkApprovalLink(SECRET, link, NOW)).toBe('ok');
    expect(checkApprovalLink(SECRET, { ...link, by: 'mallory@example.com' }, NOW)).toBe('bad-signature');
    expect(checkApprovalLink(SECRET, { ...link, by: undefined }, NOW)).toBe('bad-signature');
    expect(checkApprovalLink(SECRET, { ...link, decision: 'reject' }, NOW)).toBe('bad-signature');
    expect(checkApprovalLink(SECRET, { ...link, id: 'a-2' }, NOW)).toBe('bad-signature');
    expect(checkApprovalLink('another-secret', link, NOW)).toBe('bad-signature');
    expect(checkApprovalLink(SECRET, { ...link, exp: String(Number(link.exp) + 3600) }, NOW)).toBe('bad-signature');
    expect(checkApprovalLink(SECRET, link, new Date(LATER.getTime() + 1000))).toBe('expired');
  });

  it('checks Slack signatures and the five-minute window', () => {
    const ts = Math.floor(NOW.getTime() / 1000);
    const body = slackBody();

    expect(checkSlackRequest(SLACK_SECRET, String(ts), slackSignature(SLACK_SECRET, ts, body), body, NOW)).toBe('ok');
    expect(checkSlackRequest(SLACK_SECRET, String(ts), slackSignature('wrong', ts, body), body, NOW)).toBe('bad-signature');
    expect(checkSlackRequest(SLACK_SECRET, String(ts), slackSignature(SLACK_SECRET, ts, body), `${body}x`, NOW)).toBe('bad-signature');
    expect(checkSlackRequest(SLACK_SECRET, String(ts - 301), slackSignature(SLACK_SECRET, ts - 301, body), body, NOW)).toBe('stale');
  });
});

describe('the approval callback', () => {
  const sfn = mockClient(SFNClient);
  let approvals: InMemoryApprovalStore;
  let findings: InMemoryFindingsStore;
  let now: Date;
  let policy: Policy;
  let post: jest.Mock;
  let handler: ReturnType<typeof makeApprovalCallbackHandler>;

  async function setUp(actor?: Actor, input: PolicyInput = POLICY_INPUT) {
    sfn.reset();
    sfn.on(SendTaskSuccessCommand).resolves({});
    approvals = new InMemoryApprovalStore();
    await approvals.create(record('a-1', actor));
    findings = new InMemoryFindingsStore();
    await findings.open(record('a-1', actor).finding, NOW);
    now = NOW;
    policy = makePolicy(input);
    post = jest.fn(async () => new Response('ok', { status: 200 }));
    const deps = {
      policy,
      approvals,
      findings,
      sfn: new SFNClient({ region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } }),
      secrets: { get: async (arn: string) => (arn.endsWith(':slack') ? SLACK_SECRET : SECRET) },
      config: {
        approvalSecretArn: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:approvals',
        slackSigningSecretArn: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:slack',
      },
      clock: () => now,
    } as unknown as GuardDeps;
    handler = makeApprovalCallbackHandler(
      () => deps,
      post as unknown as typeof fetch,
      async () => undefined,
    );
  }
  beforeEach(() => setUp());
  afterAll(() => sfn.restore());

  const linkOf = (by: string, decision: 'approve' | 'reject' = 'approve') => approvalLink(SECRET, BASE, 'a-1', decision, LATER, by);
  const click = (c: Click = {}) => {
    const ts = Math.floor(now.getTime() / 1000);
    const body = slackBody(c);
    return handler(slackEvent(body, ts, slackSignature(SLACK_SECRET, ts, body)));
  };
  const replyOf = (call = 0) =>
    JSON.parse(String((post.mock.calls[call] as unknown as [string, RequestInit])[1].body)) as Record<string, unknown>;
  const expectNothingDecided = async () => {
    expect(sfn).not.toHaveReceivedCommand(SendTaskSuccessCommand);
    expect(await approvals.get('a-1')).toMatchObject({ status: 'pending' });
    expect((await approvals.get('a-1'))?.decidedBy).toBeUndefined();
    expect((await findings.get('f1'))?.history.map((h) => h.event)).toEqual(['detected']);
  };

  it('shows a confirmation page on GET, naming who decides, and decides nothing', async () => {
    const page = await handler(linkEvent(linkOf('alice@example.com'), 'GET'));

    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('rate &#60;b&#62;too&#60;/b&#62; high'); // event text is escaped
    expect(page.body).toContain('You decide as <strong>alice@example.com</strong>');
    await expectNothingDecided();
  });

  it('approves once on POST, recorded as the address the link was signed for', async () => {
    const first = await handler(linkEvent(linkOf('alice@example.com'), 'POST'));
    const replay = await handler(linkEvent(linkOf('alice@example.com'), 'POST'));

    expect(first.statusCode).toBe(200);
    expect(sfn).toHaveReceivedCommandWith(SendTaskSuccessCommand, {
      taskToken: 'token-of-a-1',
      output: JSON.stringify({ decision: 'approve', by: 'alice@example.com' }),
    });
    expect(replay.statusCode).toBe(409);
    expect(sfn).toHaveReceivedCommandTimes(SendTaskSuccessCommand, 1);
    expect(await approvals.get('a-1')).toMatchObject({
      status: 'approved',
      decidedBy: 'alice@example.com',
      deliveredAt: NOW.toISOString(),
    });
    expect((await findings.get('f1'))?.history.at(-1)).toEqual({ at: NOW.toISOString(), event: 'approved', by: 'alice@example.com' });
  });

  it("refuses another approver's link once the request is decided", async () => {
    await setUp(MALLORY_IAM);
    await handler(linkEvent(linkOf('alice@example.com', 'reject'), 'POST'));
    sfn.resetHistory();

    const late = await handler(linkEvent(linkOf('mallory@example.com', 'approve'), 'POST'));

    expect(late.statusCode).toBe(409);
    expect(late.body).toContain('already rejected by alice@example.com');
    expect(sfn).not.toHaveReceivedCommand(SendTaskSuccessCommand);
    expect(await approvals.get('a-1')).toMatchObject({ status: 'rejected', decidedBy: 'alice@example.com' });
  });

  it('refuses a validly signed link of an address that is not a listed approver', async () => {
    const page = await handler(linkEvent(linkOf('carol@example.com'), 'GET'));
    const post = await handler(linkEvent(linkOf('carol@example.com'), 'POST'));

    expect([page.statusCode, post.statusCode]).toEqual([403, 403]);
    expect(post.body).toContain('not addressed to an approver');
    await expectNothingDecided();
  });

  it("refuses a listed approver's link re-addressed to another approver", async () => {
    const forged = await handler(linkEvent(linkOf('carol@example.com'), 'POST', { by: 'alice@example.com' }));

    expect(forged.statusCode).toBe(403);
    expect(forged.body).toContain('This link is not valid');
    await expectNothingDecided();
  });

  it('refuses the email link of the actor whose change caused the finding (four eyes)', async () => {
    const result = await handler(linkEvent(linkOf('mallory@example.com'), 'POST'));

    expect(result.statusCode).toBe(403);
    expect(result.body).toContain('You made the change that caused this finding');
    await expectNothingDecided();
  });

  it('lets the actor approve their own fix when allowSelfApproval is true', async () => {
    await setUp(MALLORY_SSO, { ...POLICY_INPUT, approvals: { ...POLICY_INPUT.approvals, allowSelfApproval: true } });

    const result = await handler(linkEvent(linkOf('mallory@example.com'), 'POST'));

    expect(result.statusCode).toBe(200);
    expect(await approvals.get('a-1')).toMatchObject({ status: 'approved', decidedBy: 'mallory@example.com' });
  });

  it('refuses a forged signature, a link for another id, and an expired link', async () => {
    const forged = await handler(linkEvent(linkOf('alice@example.com'), 'POST', { sig: 'f'.repeat(64) }));
    const otherId = await handler(linkEvent(linkOf('alice@example.com'), 'POST', { id: 'a-2' }));
    now = new Date(LATER.getTime() + 60_000);
    const expired = await handler(linkEvent(linkOf('alice@example.com'), 'POST'));

    expect([forged.statusCode, otherId.statusCode, expired.statusCode]).toEqual([403, 403, 410]);
    await expectNothingDecided();
  });

  it('says 404 for a well-signed link to an approval that does not exist', async () => {
    const result = await handler(linkEvent(approvalLink(SECRET, BASE, 'nope', 'approve', LATER, 'alice@example.com'), 'POST'));

    expect(result.statusCode).toBe(404);
  });

  it("takes a listed Slack user's click and replaces the message with who decided and when", async () => {
    const result = await click({ action: 'reject' });

    expect(result.statusCode).toBe(200);
    expect(sfn).toHaveReceivedCommandWith(SendTaskSuccessCommand, {
      output: JSON.stringify({ decision: 'reject', by: 'slack:alice (U0ALICE)' }),
    });
    expect(post.mock.calls[0]?.[0]).toBe(RESPONSE_URL);
    const reply = replyOf();
    expect(reply).toMatchObject({ replace_original: true, text: `Rejected by slack:alice (U0ALICE) at ${NOW.toISOString()}` });
    const blocks = reply.blocks as Array<{ type: string; elements?: Array<{ text: string }> }>;
    expect(blocks.some((b) => b.type === 'actions')).toBe(false); // the buttons are gone
    expect(blocks.at(-1)?.elements?.[0]?.text).toBe(`Rejected by slack:alice (U0ALICE) at ${NOW.toISOString()}`);
  });

  it.each([
    ['a Slack user who is not listed', { user: { id: 'U0CAROL', username: 'carol', team_id: TEAM } }, 'You are not an approver'],
    [
      'a user of another Slack team',
      { teamId: 'T0OTHER', user: { id: 'U0ALICE', username: 'alice', team_id: 'T0OTHER' } },
      'not the one Rampart takes approvals from',
    ],
    ['a forged app id', { appId: 'A0FORGED' }, 'not the one Rampart takes approvals from'],
    [
      'the actor whose change caused the finding',
      { user: { id: 'U0MALLORY', username: 'mallory', team_id: TEAM } },
      'You made the change that caused this finding',
    ],
  ] as const)('refuses %s with an ephemeral message and decides nothing', async (_, c, message) => {
    await setUp(MALLORY_IAM);

    const result = await click(c);

    expect(result.statusCode).toBe(200);
    expect(replyOf()).toMatchObject({ response_type: 'ephemeral', replace_original: false });
    expect(String(replyOf().text)).toContain(message);
    await expectNothingDecided();
  });

  it("does not follow a response_url that is not Slack's; answers in the HTTP response instead", async () => {
    const result = await click({ user: { id: 'U0CAROL', username: 'carol' }, responseUrl: 'https://attacker.example/collect' });

    expect(post).not.toHaveBeenCalled();
    expect(JSON.parse(result.body)).toMatchObject({ response_type: 'ephemeral' });
  });

  it('refuses a Slack callback with a bad signature or a stale timestamp', async () => {
    const ts = Math.floor(NOW.getTime() / 1000);
    const body = slackBody();

    const bad = await handler(slackEvent(body, ts, slackSignature('not-the-secret', ts, body)));
    const stale = await handler(slackEvent(body, ts - 600, slackSignature(SLACK_SECRET, ts - 600, body)));

    expect([bad.statusCode, stale.statusCode]).toEqual([401, 401]);
    await expectNothingDecided();
  });

  it('records an approval that came after the workflow timed out as expired, not approved', async () => {
    sfn.on(SendTaskSuccessCommand).rejects(Object.assign(new Error('Task Timed Out'), { name: 'TaskTimedOut' }));

    const result = await handler(linkEvent(linkOf('alice@example.com'), 'POST'));

    expect(result.statusCode).toBe(410);
    expect(await approvals.get('a-1')).toMatchObject({
      status: 'expired',
      decidedBy: 'alice@example.com',
      note: expect.stringContaining('after the workflow had stopped waiting (TaskTimedOut)'),
    });
    expect((await findings.get('f1'))?.history.at(-1)).toMatchObject({ event: 'approval-too-late', by: 'alice@example.com' });
  });

  it('records a decision for an execution that no longer exists as withdrawn', async () => {
    sfn.on(SendTaskSuccessCommand).rejects(Object.assign(new Error('Task does not exist'), { name: 'TaskDoesNotExist' }));

    expect((await click()).statusCode).toBe(200);
    expect(await approvals.get('a-1')).toMatchObject({ status: 'withdrawn' });
    expect(String(replyOf().text)).toContain('no longer waiting');
  });
});

describe('approval requests', () => {
  it('get a random id, and send each listed approver a message with only their own links', async () => {
    const sns = mockClient(SNSClient);
    sns.on(PublishCommand).resolves({ MessageId: 'm' });
    const approvals = new InMemoryApprovalStore();
    const findings = new InMemoryFindingsStore();
    const finding = FINDING();
    await findings.open(finding, NOW);
    const deps = {
      policy: makePolicy(POLICY_INPUT),
      approvals,
      findings,
      sns: new SNSClient({ region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } }),
      secrets: { get: async () => SECRET },
      config: {
        topicArn: 'arn:aws:sns:us-east-1:111122223333:rampart',
        approvalApiUrl: BASE,
        approvalSecretArn: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:approvals',
      },
      clock: () => NOW,
    } as unknown as GuardDeps;
    const change = record('x').change;

    await makeWorkflowHandlers(() => deps).requestApproval({ finding, change, generation: 1, taskToken: 't1' });
    await makeWorkflowHandlers(() => deps).requestApproval({ finding, change, generation: 2, taskToken: 't2' });

    const ids = [...approvals.records.keys()];
    expect(ids).toHaveLength(2);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    // not the old derivation `<findingId>-<generation>`, and never the same twice
    expect(ids).not.toEqual(expect.arrayContaining([`${finding.id}-1`]));
    expect(ids).not.toEqual(expect.arrayContaining([`${finding.id}-2`]));
    expect(new Set(ids).size).toBe(2);
    expect(await approvals.idOf(finding.id, 2)).toBe(ids[1]);
    // what the approval page shows comes from the record: why a person must agree, who was asked
    expect(approvals.records.get(ids[0]!)).toMatchObject({
      reason: 'The policy sets risk: high for apigateway-throttling: every fix it plans waits for a named approver.',
      rules: { approvers: POLICY_INPUT.approvals!.approvers },
    });
    const calls = sns.commandCalls(PublishCommand).map((c) => c.args[0].input);
    const [general, toAlice, toMallory] = calls;
    expect(calls).toHaveLength(6);
    expect(general?.MessageAttributes?.approver).toBeUndefined();
    expect(JSON.parse(String(general?.Message)).default).not.toContain('sig=');
    expect(toAlice?.MessageAttributes?.approver).toEqual({ DataType: 'String', StringValue: 'alice@example.com' });
    expect(toMallory?.MessageAttributes?.approver).toEqual({ DataType: 'String', StringValue: 'mallory@example.com' });
    const aliceText = JSON.parse(String(toAlice?.Message)) as Record<string, string>;
    expect(aliceText.lambda).toBeUndefined();
    const links = [...aliceText.email!.matchAll(/https:\/\/\S+/g)].map((m) => new URL(m[0]));
    expect(links).toHaveLength(2);
    for (const link of links) {
      const [, , , id, decision] = link.pathname.split('/');
      expect(
        checkApprovalLink(
          SECRET,
          {
            id: id!,
            decision: decision!,
            exp: link.searchParams.get('exp') ?? undefined,
            by: link.searchParams.get('by') ?? undefined,
            sig: link.searchParams.get('sig') ?? undefined,
          },
          NOW,
        ),
      ).toBe('ok');
      expect(link.searchParams.get('by')).toBe('alice@example.com');
    }
    expect(aliceText.email).not.toContain('mallory%40example.com');
    expect(approvals.records.get(ids[0]!)?.rules).toEqual({ approvers: deps.policy.approvals.approvers, allowSelfApproval: false });
    sns.restore();
  });
});
