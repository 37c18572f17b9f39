import { SFNClient, SendTaskSuccessCommand } from '@aws-sdk/client-sfn';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { approvalLink, checkApprovalLink, checkSlackRequest, slackSignature } from '../../core/approval-links';
import { InMemoryApprovalStore, InMemoryFindingsStore, type ApprovalRecord } from '../../core/stores';
import { makeApprovalCallbackHandler } from '../../remediators/handlers/approval-callback';
import type { GuardDeps } from '../../remediators/handlers/deps';
import { policy } from '../helpers';

const SECRET = 'k'.repeat(64);
const SLACK_SECRET = 'slack-signing-secret';
const BASE = 'https://abc123.execute-api.us-east-1.amazonaws.com/approvals/';
const NOW = new Date('2024-06-03T16:00:00Z');
const LATER = new Date('2024-06-04T16:00:00Z');

const record = (id: string): ApprovalRecord => ({
  id,
  findingId: 'f1',
  taskToken: `token-of-${id}`,
  finding: { id: 'f1', control: 'apigateway-throttling', severity: 'medium', resourceArn: 'arn:aws:apigateway:us-east-1::/restapis/a1/stages/prod', resourceType: 'AWS::ApiGateway::Stage', observed: {}, desired: {}, violation: 'rate <b>too</b> high', eventId: 'e1' },
  change: { service: 'apigateway', operation: 'UpdateStage', region: 'us-east-1', input: { restApiId: 'a1', stageName: 'prod', patchOperations: [] } },
  createdAt: NOW.toISOString(),
  expiresAt: LATER.toISOString(),
  status: 'pending',
});

function linkEvent(url: string, httpMethod: 'GET' | 'POST', override: Partial<{ id: string; sig: string }> = {}): APIGatewayProxyEvent {
  const u = new URL(url);
  const [, , , id, decision] = u.pathname.split('/');
  const query = Object.fromEntries(u.searchParams);
  if (override.sig) query.sig = override.sig;
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
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'X-Slack-Request-Timestamp': String(timestamp), 'X-Slack-Signature': signature },
    body,
    isBase64Encoded: false,
  } as unknown as APIGatewayProxyEvent;
}

const slackBody = (action: 'approve' | 'reject', id: string) =>
  `payload=${encodeURIComponent(JSON.stringify({ type: 'block_actions', user: { id: 'U123', username: 'alice' }, actions: [{ action_id: action, value: id, type: 'button' }] }))}`;

describe('approval links', () => {
  it('round-trips a signed link and refuses a tampered one', () => {
    const url = new URL(approvalLink(SECRET, BASE, 'a-1', 'approve', LATER));
    const link = { id: 'a-1', decision: 'approve', exp: url.searchParams.get('exp') ?? undefined, sig: url.searchParams.get('sig') ?? undefined };

    expect(url.pathname).toBe('/approvals/approvals/a-1/approve');
    expect(checkApprovalLink(SECRET, link, NOW)).toBe('ok');
    expect(checkApprovalLink(SECRET, { ...link, decision: 'reject' }, NOW)).toBe('bad-signature');
    expect(checkApprovalLink(SECRET, { ...link, id: 'a-2' }, NOW)).toBe('bad-signature');
    expect(checkApprovalLink('another-secret', link, NOW)).toBe('bad-signature');
    expect(checkApprovalLink(SECRET, { ...link, exp: String(Number(link.exp) + 3600) }, NOW)).toBe('bad-signature');
    expect(checkApprovalLink(SECRET, link, new Date(LATER.getTime() + 1000))).toBe('expired');
  });

  it('checks Slack signatures and the five-minute window', () => {
    const ts = Math.floor(NOW.getTime() / 1000);
    const body = slackBody('approve', 'a-1');

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
  let handler: ReturnType<typeof makeApprovalCallbackHandler>;

  beforeEach(async () => {
    sfn.reset();
    sfn.on(SendTaskSuccessCommand).resolves({});
    approvals = new InMemoryApprovalStore();
    await approvals.create(record('a-1'));
    findings = new InMemoryFindingsStore();
    await findings.open(record('a-1').finding, NOW);
    now = NOW;
    const deps = {
      policy: policy(),
      approvals,
      findings,
      sfn: new SFNClient({ region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } }),
      secrets: { get: async (arn: string) => (arn.includes('slack') ? SLACK_SECRET : SECRET) },
      config: { approvalSecretArn: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:approvals', slackSigningSecretArn: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:slack' },
      clock: () => now,
    } as unknown as GuardDeps;
    handler = makeApprovalCallbackHandler(() => deps);
  });
  afterAll(() => sfn.restore());

  const approveUrl = () => approvalLink(SECRET, BASE, 'a-1', 'approve', LATER);

  it('shows a confirmation page on GET and decides nothing', async () => {
    const page = await handler(linkEvent(approveUrl(), 'GET'));

    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('rate &#60;b&#62;too&#60;/b&#62; high'); // event text is escaped
    expect(sfn).not.toHaveReceivedCommand(SendTaskSuccessCommand);
    expect((await approvals.get('a-1'))?.status).toBe('pending');
  });

  it('approves once on POST, resuming the workflow with the decision', async () => {
    const first = await handler(linkEvent(approveUrl(), 'POST'));
    const replay = await handler(linkEvent(approveUrl(), 'POST'));

    expect(first.statusCode).toBe(200);
    expect(sfn).toHaveReceivedCommandWith(SendTaskSuccessCommand, { taskToken: 'token-of-a-1', output: JSON.stringify({ decision: 'approve', by: 'signed link' }) });
    expect(replay.statusCode).toBe(409);
    expect(sfn).toHaveReceivedCommandTimes(SendTaskSuccessCommand, 1);
    expect(await approvals.get('a-1')).toMatchObject({ status: 'approved', decidedBy: 'signed link' });
    expect((await findings.get('f1'))?.history.at(-1)).toEqual({ at: NOW.toISOString(), event: 'approved', by: 'signed link' });
  });

  it('refuses a forged signature, a link for another id, and an expired link', async () => {
    const forged = await handler(linkEvent(approveUrl(), 'POST', { sig: 'f'.repeat(64) }));
    const otherId = await handler(linkEvent(approveUrl(), 'POST', { id: 'a-2' }));
    now = new Date(LATER.getTime() + 60_000);
    const expired = await handler(linkEvent(approveUrl(), 'POST'));

    expect([forged.statusCode, otherId.statusCode, expired.statusCode]).toEqual([403, 403, 410]);
    expect(sfn).not.toHaveReceivedCommand(SendTaskSuccessCommand);
    expect((await approvals.get('a-1'))?.status).toBe('pending');
  });

  it('says 404 for a well-signed link to an approval that does not exist', async () => {
    const result = await handler(linkEvent(approvalLink(SECRET, BASE, 'nope', 'approve', LATER), 'POST'));

    expect(result.statusCode).toBe(404);
  });

  it('takes a Slack button click, recording who clicked', async () => {
    const ts = Math.floor(NOW.getTime() / 1000);
    const body = slackBody('reject', 'a-1');

    const result = await handler(slackEvent(body, ts, slackSignature(SLACK_SECRET, ts, body)));

    expect(result.statusCode).toBe(200);
    expect(JSON.parse(result.body)).toMatchObject({ text: 'Rejected by slack:alice (U123)' });
    expect(sfn).toHaveReceivedCommandWith(SendTaskSuccessCommand, { output: JSON.stringify({ decision: 'reject', by: 'slack:alice (U123)' }) });
  });

  it('refuses a Slack callback with a bad signature or a stale timestamp', async () => {
    const ts = Math.floor(NOW.getTime() / 1000);
    const body = slackBody('approve', 'a-1');

    const bad = await handler(slackEvent(body, ts, slackSignature('not-the-secret', ts, body)));
    const stale = await handler(slackEvent(body, ts - 600, slackSignature(SLACK_SECRET, ts - 600, body)));

    expect([bad.statusCode, stale.statusCode]).toEqual([401, 401]);
    expect(sfn).not.toHaveReceivedCommand(SendTaskSuccessCommand);
  });

  it('answers 410 when the workflow no longer waits (task timed out)', async () => {
    sfn.on(SendTaskSuccessCommand).rejects(Object.assign(new Error('Task Timed Out'), { name: 'TaskTimedOut' }));

    expect((await handler(linkEvent(approveUrl(), 'POST'))).statusCode).toBe(410);
  });
});
