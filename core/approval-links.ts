import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Signed approval links and Slack request verification. A link names the approval, the
 * decision and an expiry, signed with HMAC-SHA256 under a secret kept in Secrets Manager; it
 * works once because the approval record moves from `pending` exactly once.
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

function linkPayload(id: string, decision: Decision, exp: number): string {
  return `rampart-approval:v1:${id}:${decision}:${exp}`;
}

/** @example approvalLink(secret, 'https://x.execute-api.us-east-1.amazonaws.com/prod', 'a1', 'approve', expiry) */
export function approvalLink(secret: string, baseUrl: string, id: string, decision: Decision, expiresAt: Date): string {
  const exp = Math.floor(expiresAt.getTime() / 1000);
  const sig = hmac(secret, linkPayload(id, decision, exp));
  return `${baseUrl.replace(/\/$/, '')}/approvals/${encodeURIComponent(id)}/${decision}?exp=${exp}&sig=${sig}`;
}

export type LinkCheck = 'ok' | 'bad-signature' | 'expired';

/** Checks a link's signature (constant time) and expiry. */
export function checkApprovalLink(secret: string, link: { id: string; decision: string; exp: string | undefined; sig: string | undefined }, now: Date): LinkCheck {
  const exp = Number(link.exp);
  if (!link.sig || !Number.isInteger(exp) || !(DECISIONS as readonly string[]).includes(link.decision)) return 'bad-signature';
  if (!equalHex(hmac(secret, linkPayload(link.id, link.decision as Decision, exp)), link.sig)) return 'bad-signature';
  return exp * 1000 < now.getTime() ? 'expired' : 'ok';
}

/** Slack's window for request timestamps: older requests may be replays. */
export const SLACK_MAX_AGE_SECONDS = 300;

export type SlackCheck = 'ok' | 'bad-signature' | 'stale';

/**
 * Verifies Slack's request signing: `X-Slack-Signature` = `v0=` + HMAC-SHA256(signing secret,
 * `v0:<X-Slack-Request-Timestamp>:<raw body>`), timestamp within five minutes.
 */
export function checkSlackRequest(signingSecret: string, timestamp: string | undefined, signature: string | undefined, rawBody: string, now: Date): SlackCheck {
  const ts = Number(timestamp);
  if (!signature || !Number.isInteger(ts)) return 'bad-signature';
  if (Math.abs(now.getTime() / 1000 - ts) > SLACK_MAX_AGE_SECONDS) return 'stale';
  return equalHex(`v0=${hmac(signingSecret, `v0:${ts}:${rawBody}`)}`, signature) ? 'ok' : 'bad-signature';
}

/** What Slack signs, for tests and tools that call the endpoint. */
export function slackSignature(signingSecret: string, timestamp: number, rawBody: string): string {
  return `v0=${hmac(signingSecret, `v0:${timestamp}:${rawBody}`)}`;
}
