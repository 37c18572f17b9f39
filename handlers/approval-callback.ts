import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import * as z from 'zod/mini';
import { checkApprovalLink, checkSlackRequest, type Decision } from '../core/approval-links';
import { messageOf } from '../core/errors';
import { confirmationPage, decidedPage, decisionPage, messagePage, type HtmlPage } from '../core/approval-page';
import { forSlack } from '../core/neutralise';
import { slackBlocksOf } from '../core/channels/slack';
import { decideApproval, type DecisionDeps, type DecisionResult } from '../remediators/approval-decision';
import { refusalFor, type RefusalReason } from '../remediators/approval-rules';
import { lambdaAdapter } from './adapter';
import { lazyDeps, type GuardDeps } from './deps';
import { logger } from './telemetry';

/**
 * The approval API's Lambda (API Gateway REST, proxy integration), a thin adapter over the
 * approval-decision service:
 * - `GET /approvals/{id}/{decision}?exp&by&sig`: a signed link from an approver's email. It only
 *   shows a confirmation page: mail scanners open links, and a GET must never approve anything.
 * - `POST` to the same URL: the confirmation; decides once as the address the link was signed for.
 * - `POST /slack/interactions`: Slack's button callback, verified with Slack request signing,
 *   answered through the interaction's `response_url`.
 */

export type { ApprovalDecision } from '../remediators/approval-decision';

// https://docs.slack.dev/reference/interaction-payloads/block_actions-payload
const slackPayloadSchema = z.looseObject({
  type: z.literal('block_actions'),
  api_app_id: z.optional(z.string()),
  team: z.optional(z.nullable(z.looseObject({ id: z.string() }))),
  user: z.looseObject({ id: z.string(), username: z.optional(z.string()), name: z.optional(z.string()), team_id: z.optional(z.string()) }),
  response_url: z.optional(z.string()),
  actions: z
    .array(z.looseObject({ action_id: z.enum(['approve', 'reject']), value: z.string().check(z.minLength(1)) }))
    .check(z.minLength(1)),
});

/** Where a refusal leaves the HTTP caller. */
const STATUS_OF: Record<RefusalReason, number> = {
  'not-found': 404,
  'not-listed': 403,
  'wrong-workspace': 403,
  'self-approval': 403,
  'already-decided': 409,
  expired: 410,
  'workflow-gone': 410,
  'not-recorded': 503,
};

const html = (page: HtmlPage): APIGatewayProxyResult => ({ statusCode: page.status, headers: page.headers, body: page.body });

function header(event: APIGatewayProxyEvent, name: string): string | undefined {
  const key = Object.keys(event.headers ?? {}).find((k) => k.toLowerCase() === name);
  return key ? (event.headers[key] ?? undefined) : undefined;
}

function rawBody(event: APIGatewayProxyEvent): string {
  if (!event.body) return '';
  return event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
}

function decisionDeps(deps: GuardDeps, sleep?: (ms: number) => Promise<void>): DecisionDeps {
  return {
    ...(sleep ? { sleep } : {}),
    approvals: deps.approvals,
    findings: deps.findings,
    sfn: deps.sfn,
    policy: deps.policy,
    clock: deps.clock,
    log: (level, message, data) => logger[level](message, data),
  };
}

/**
 * @param post reaches Slack's `response_url` (injected for tests)
 * @param sleep waits between tries of a failed AWS call (injected for tests)
 */
export function makeApprovalCallbackHandler(
  getDeps: () => GuardDeps,
  post: typeof fetch = (...args) => fetch(...args),
  sleep?: (ms: number) => Promise<void>,
) {
  return async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
    const deps = getDeps();
    if (event.resource === '/slack/interactions' || event.path?.endsWith('/slack/interactions')) return slack(event, deps, post, sleep);
    return emailLink(event, deps, sleep);
  };
}

async function emailLink(
  event: APIGatewayProxyEvent,
  deps: GuardDeps,
  sleep?: (ms: number) => Promise<void>,
): Promise<APIGatewayProxyResult> {
  const id = event.pathParameters?.id ?? '';
  const decision = event.pathParameters?.decision ?? '';
  const query = event.queryStringParameters ?? {};
  if (!deps.config.approvalSecretArn) return html(messagePage(500, 'Approvals are not configured'));
  const check = checkApprovalLink(
    await deps.secrets.get(deps.config.approvalSecretArn),
    { id, decision, exp: query.exp, by: query.by, sig: query.sig },
    deps.clock(),
  );
  if (check === 'bad-signature') return html(messagePage(403, 'Invalid link', 'This link is not valid; nothing was changed.'));
  if (check === 'expired') return html(messagePage(410, 'Link expired', 'This approval link has expired; nothing was changed.'));
  const address = query.by!;
  const verb = decision as Decision;
  if (event.httpMethod === 'GET') {
    const approval = await deps.approvals.get(id);
    if (!approval) return html(messagePage(404, 'No such approval request', 'Nothing was changed.'));
    const refusal = refusalFor(deps.policy, approval.finding, { channel: 'email', address });
    if (refusal) return html(messagePage(STATUS_OF[refusal.refused], 'Not allowed', refusal.message));
    if (approval.status !== 'pending') return html(decidedPage(approval));
    return html(confirmationPage(approval, verb, address, deps.clock()));
  }
  const result = await decideApproval(decisionDeps(deps, sleep), {
    id,
    decision: verb,
    approver: { channel: 'email', address },
  });
  if (!result.ok) {
    if (result.refused === 'already-decided' && result.approval) return html(decidedPage(result.approval));
    return html(messagePage(STATUS_OF[result.refused], 'Not done', result.message));
  }
  return html(decisionPage(result.approval, result.decision, result.by, result.at, result.uncertain));
}

const json = (statusCode: number, body: object): APIGatewayProxyResult => ({
  statusCode,
  headers: { 'Content-Type': 'application/json' },
  body: JSON.stringify(body),
});

/** Slack's response URLs; anything else in a payload is not followed. */
const isSlackResponseUrl = (url: string | undefined): url is string =>
  typeof url === 'string' && /^https:\/\/hooks\.slack\.com\//.test(url);

async function slack(
  event: APIGatewayProxyEvent,
  deps: GuardDeps,
  post: typeof fetch,
  sleep?: (ms: number) => Promise<void>,
): Promise<APIGatewayProxyResult> {
  if (!deps.config.slackSigningSecretArn) return json(500, { text: 'Slack approvals are not configured' });
  const body = rawBody(event);
  const check = checkSlackRequest(
    await deps.secrets.get(deps.config.slackSigningSecretArn),
    header(event, 'x-slack-request-timestamp'),
    header(event, 'x-slack-signature'),
    body,
    deps.clock(),
  );
  if (check !== 'ok') {
    logger.warn('rejected Slack request', { check });
    return json(401, { text: check === 'stale' ? 'stale request' : 'invalid signature' });
  }
  let payload: unknown;
  try {
    payload = JSON.parse(new URLSearchParams(body).get('payload') ?? 'null');
  } catch {
    payload = null;
  }
  const parsed = z.safeParse(slackPayloadSchema, payload);
  if (!parsed.success) return json(400, { text: 'unsupported interaction' });
  const { actions, user, team, api_app_id: appId, response_url: responseUrl } = parsed.data;
  const action = actions[0]!;
  const result = await decideApproval(decisionDeps(deps, sleep), {
    id: action.value,
    decision: action.action_id,
    approver: { channel: 'slack', userId: user.id, teamId: team?.id ?? user.team_id, appId, name: user.username ?? user.name },
  });
  const reply = slackReply(result);
  if (!isSlackResponseUrl(responseUrl)) return json(200, reply);
  try {
    const response = await post(responseUrl, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(reply),
    });
    if (!response.ok) logger.warn('Slack response_url refused the reply', { status: response.status });
  } catch (error) {
    // the decision stands either way; only the message in Slack is not updated
    logger.warn('cannot reply on Slack', { error: messageOf(error) });
  }
  return { statusCode: 200, headers: { 'Content-Type': 'text/plain' }, body: '' };
}

/** A refusal only the clicker sees; a decision replaces the buttons with who decided and when. */
function slackReply(result: DecisionResult): Record<string, unknown> {
  if (!result.ok) return { response_type: 'ephemeral', replace_original: false, text: forSlack(result.message) };
  const verb = result.decision === 'approve' ? 'Approved' : 'Rejected';
  const line = `${verb} by ${forSlack(result.by)} at ${result.at}${result.uncertain ? ' (the workflow may have stopped waiting: watch for its outcome)' : ''}`;
  const { finding, change } = result.approval;
  return { replace_original: true, text: line, blocks: slackBlocksOf({ kind: 'awaiting-approval', finding, change }, { decision: line }) };
}

export const handler = lambdaAdapter('approval-callback', makeApprovalCallbackHandler(lazyDeps()));
