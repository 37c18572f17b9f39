import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Signed approval links and Slack request verification. A link names the approval, the
 * decision, the approver it was sent to and an expiry, all signed with HMAC-SHA256 under a
 * secret kept in Secrets Manager: the decision is recorded as that approver, and a link cannot
 * be re-addressed to someone else. It works once because the approval record moves from
 * `pending` exactly once.
 */
export const DECISIONS = ['approve', 'reject'] as const;
export type Decision = (typeof DECISIONS)[number];

function hmac(secret: string, text: string): string {
  return createHmac('sha256', secret).update(text).digest('hex');
}

function equalHex(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

// v2 binds the approver (v1 links, without one, no longer verify); JSON keeps the fields apart
function linkPayload(id: string, decision: Decision, exp: number, approver: string): string {
  return `rampart-approval:v2:${JSON.stringify([id, decision, exp, approver])}`;
}

/** @example approvalLink(secret, 'https://x.execute-api.us-east-1.amazonaws.com/prod', 'a1', 'approve', expiry, 'alice@example.com') */
export function approvalLink(secret: string, baseUrl: string, id: string, decision: Decision, expiresAt: Date, approver: string): string {
  const exp = Math.floor(expiresAt.getTime() / 1000);
  const sig = hmac(secret, linkPayload(id, decision, exp, approver));
  return `${baseUrl.replace(/\/$/, '')}/approvals/${encodeURIComponent(id)}/${decision}?exp=${exp}&by=${encodeURIComponent(approver)}&sig=${sig}`;
}

export type LinkCheck = 'ok' | 'bad-signature' | 'expired';

export interface SignedLink {
  id: string;
  decision: string;
  exp: string | undefined;
  /** The approver the link was sent to. */
  by: string | undefined;
  sig: string | undefined;
}

/** Checks a link's signature (constant time) and expiry. */
export function checkApprovalLink(secret: string, link: SignedLink, now: Date): LinkCheck {
  const exp = Number(link.exp);
  if (!link.sig || !link.by || !Number.isInteger(exp) || !(DECISIONS as readonly string[]).includes(link.decision)) return 'bad-signature';
  if (!equalHex(hmac(secret, linkPayload(link.id, link.decision as Decision, exp, link.by)), link.sig)) return 'bad-signature';
  return exp * 1000 < now.getTime() ? 'expired' : 'ok';
}

/** Slack's window for request timestamps: older requests may be replays. */
export const SLACK_MAX_AGE_SECONDS = 300;

export type SlackCheck = 'ok' | 'bad-signature' | 'stale';

/**
 * Verifies Slack's request signing: `X-Slack-Signature` = `v0=` + HMAC-SHA256(signing secret,
 * `v0:<X-Slack-Request-Timestamp>:<raw body>`), timestamp within five minutes.
 */
export function checkSlackRequest(
  signingSecret: string,
  timestamp: string | undefined,
  signature: string | undefined,
  rawBody: string,
  now: Date,
): SlackCheck {
  const ts = Number(timestamp);
  if (!signature || !Number.isInteger(ts)) return 'bad-signature';
  if (Math.abs(now.getTime() / 1000 - ts) > SLACK_MAX_AGE_SECONDS) return 'stale';
  return equalHex(`v0=${hmac(signingSecret, `v0:${ts}:${rawBody}`)}`, signature) ? 'ok' : 'bad-signature';
}

/** What Slack signs, for tests and tools that call the endpoint. */
export function slackSignature(signingSecret: string, timestamp: number, rawBody: string): string {
  return `v0=${hmac(signingSecret, `v0:${timestamp}:${rawBody}`)}`;
}
