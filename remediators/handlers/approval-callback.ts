import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import * as z from 'zod/mini';
import { checkApprovalLink, checkSlackRequest, type Decision } from '../../core/approval-links';
import { messageOf } from '../../core/errors';
import { sdk } from '../../core/sdk';
import { escapeSlack } from '../../core/notify';
import { lambdaAdapter } from './adapter';
import { lazyDeps, type GuardDeps } from './deps';
import { logger } from './telemetry';

/**
 * The approval API's Lambda (API Gateway REST, proxy integration):
 * - `GET /approvals/{id}/{decision}?exp&sig`: a signed link from an email. It only shows a
 *   confirmation page: mail scanners open links, and a GET must never approve anything.
 * - `POST` to the same URL: the confirmation; checks signature and expiry, decides once,
 *   resumes the workflow.
 * - `POST /slack/interactions`: Slack's button callback, verified with Slack request signing.
 */

/** What the waiting workflow receives: the approval state's output. */
export interface ApprovalDecision {
  decision: Decision;
  by: string;
}

const slackPayloadSchema = z.looseObject({
  type: z.literal('block_actions'),
  user: z.looseObject({ id: z.string(), username: z.optional(z.string()), name: z.optional(z.string()) }),
  actions: z.array(z.looseObject({ action_id: z.enum(['approve', 'reject']), value: z.string().check(z.minLength(1)) })).check(z.minLength(1)),
});

const html = (status: number, title: string, body: string): APIGatewayProxyResult => ({
  statusCode: status,
  headers: { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store', 'Content-Security-Policy': "default-src 'none'; form-action 'self'", 'X-Frame-Options': 'DENY' },
  body: `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title></head><body><h1>${title}</h1>${body}</body></html>`,
});

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function header(event: APIGatewayProxyEvent, name: string): string | undefined {
  const key = Object.keys(event.headers ?? {}).find((k) => k.toLowerCase() === name);
  return key ? (event.headers[key] ?? undefined) : undefined;
}

function rawBody(event: APIGatewayProxyEvent): string {
  if (!event.body) return '';
  return event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
}

/** Decides once and resumes the workflow; the refusal reason otherwise. */
async function decide(deps: GuardDeps, id: string, decision: Decision, by: string): Promise<{ ok: true } | { ok: false; status: number; message: string }> {
  const result = await deps.approvals.decide(id, decision === 'approve' ? 'approved' : 'rejected', by, deps.clock());
  if ('refused' in result) {
    return result.refused === 'not-found'
      ? { ok: false, status: 404, message: 'No such approval request.' }
      : { ok: false, status: 409, message: 'This request was already decided (or expired); nothing changed.' };
  }
  const output: ApprovalDecision = { decision, by };
  try {
    await deps.sfn.send(new sdk.sfn.SendTaskSuccessCommand({ taskToken: result.decided.taskToken, output: JSON.stringify(output) }));
  } catch (error) {
    // TaskTimedOut, TaskDoesNotExist, InvalidToken: the workflow stopped waiting
    logger.warn('workflow no longer waiting', { approvalId: id, error: messageOf(error) });
    return { ok: false, status: 410, message: 'The workflow is no longer waiting for this decision.' };
  }
  await deps.findings.update(result.decided.findingId, { entry: { at: deps.clock().toISOString(), event: decision === 'approve' ? 'approved' : 'rejected', by } });
  logger.info('approval decided', { approvalId: id, decision, by });
  return { ok: true };
}

export function makeApprovalCallbackHandler(getDeps: () => GuardDeps) {
  return async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
    const deps = getDeps();
    if (event.resource === '/slack/interactions' || event.path?.endsWith('/slack/interactions')) return slack(event, deps);
    const id = event.pathParameters?.id ?? '';
    const decision = event.pathParameters?.decision ?? '';
    const query = event.queryStringParameters ?? {};
    if (!deps.config.approvalSecretArn) return html(500, 'Approvals are not configured', '');
    const check = checkApprovalLink(await deps.secrets.get(deps.config.approvalSecretArn), { id, decision, exp: query.exp, sig: query.sig }, deps.clock());
    if (check === 'bad-signature') return html(403, 'Invalid link', '<p>This link is not valid.</p>');
    if (check === 'expired') return html(410, 'Link expired', '<p>This approval link has expired; nothing was changed.</p>');
    const approval = await deps.approvals.get(id);
    if (!approval) return html(404, 'No such approval request', '');
    if (approval.status !== 'pending') return html(409, 'Already decided', `<p>This request is ${escapeHtml(approval.status)}; nothing changed.</p>`);
    const verb = decision === 'approve' ? 'Approve' : 'Reject';
    if (event.httpMethod === 'GET') {
      const f = approval.finding;
      return html(
        200,
        `${verb} this fix?`,
        `<p>${escapeHtml(f.control)} on <code>${escapeHtml(f.resourceArn)}</code>: ${escapeHtml(f.violation)}</p>` +
          `<p>Change: <code>${escapeHtml(`${approval.change.operation} ${JSON.stringify(approval.change.input)}`)}</code></p>` +
          `<form method="post"><button type="submit">${verb}</button></form>`,
      );
    }
    const result = await decide(deps, id, decision as Decision, 'signed link');
    return result.ok ? html(200, decision === 'approve' ? 'Approved' : 'Rejected', '<p>The workflow goes on. You can close this page.</p>') : html(result.status, 'Not done', `<p>${escapeHtml(result.message)}</p>`);
  };
}

async function slack(event: APIGatewayProxyEvent, deps: GuardDeps): Promise<APIGatewayProxyResult> {
  const json = (statusCode: number, body: object): APIGatewayProxyResult => ({ statusCode, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  if (!deps.config.slackSigningSecretArn) return json(500, { text: 'Slack approvals are not configured' });
  const body = rawBody(event);
  const check = checkSlackRequest(await deps.secrets.get(deps.config.slackSigningSecretArn), header(event, 'x-slack-request-timestamp'), header(event, 'x-slack-signature'), body, deps.clock());
  if (check !== 'ok') {
    logger.warn('rejected Slack request', { check });
    return json(401, { text: check === 'stale' ? 'stale request' : 'invalid signature' });
  }
  const parsed = z.safeParse(slackPayloadSchema, JSON.parse(new URLSearchParams(body).get('payload') ?? 'null'));
  if (!parsed.success) return json(400, { text: 'unsupported interaction' });
  const action = parsed.data.actions[0]!;
  const user = parsed.data.user;
  const by = `slack:${user.username ?? user.name ?? user.id} (${user.id})`;
  const result = await decide(deps, action.value, action.action_id, by);
  const text = result.ok ? `${action.action_id === 'approve' ? 'Approved' : 'Rejected'} by ${escapeSlack(by)}` : escapeSlack(result.message);
  return json(200, { replace_original: false, text });
}

export const handler = lambdaAdapter('approval-callback', makeApprovalCallbackHandler(lazyDeps()));
