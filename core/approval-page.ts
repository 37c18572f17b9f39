import { createHash } from 'node:crypto';
import { stepsOf } from './control';
import { forHtml, forTerminal, forTextLine } from './neutralise';
import type { ApprovalRecord } from './stores';

/**
 * The approval page an emailed link opens: everything an approver needs to decide without
 * another tab (account, region, resource, control, severity, who made the change, the values
 * now and after the fix side by side, the exact API call, why a human must agree, who else was
 * asked, when it expires), readable on a phone. Pure: the record and the clock in, HTML out.
 * Every value from an event or from AWS goes through `forHtml` (and has its control characters
 * made visible); the only style is the sheet below, allowed by its hash in the page's CSP, so
 * nothing injected could style or script the page.
 */

export type ApprovalVerb = 'approve' | 'reject';

export interface HtmlPage {
  status: number;
  headers: Record<string, string>;
  body: string;
}

const STYLE = `
:root{color-scheme:light;--ink:#1d2430;--muted:#5b6473;--line:#d9dee6;--bg:#f5f7fa;--ok:#146c43;--bad:#b42318;--now:#fdecea;--next:#e7f5ec}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--ink);font:16px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
main{max-width:860px;margin:0 auto;padding:20px 16px 40px}
.brand{margin:0 0 4px;color:var(--muted);font-size:14px;letter-spacing:.02em}
h1{margin:0 0 8px;font-size:26px;line-height:1.2}
h2{margin:24px 0 8px;font-size:17px}
.violation{margin:0 0 16px;font-size:17px}
.card{background:#fff;border:1px solid var(--line);border-radius:10px;padding:14px 16px}
.card p{margin:0}
.card p+p,.card pre+p{margin-top:10px}
dl{display:grid;grid-template-columns:max-content 1fr;gap:6px 16px;margin:0}
dt{color:var(--muted)}
dd{margin:0;min-width:0;overflow-wrap:anywhere}
code,pre{font:14px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
pre{margin:0;white-space:pre-wrap;overflow-wrap:anywhere}
.sev{display:inline-block;padding:0 8px;border-radius:9px;font-weight:600;font-size:14px;text-transform:uppercase}
.sev-critical,.sev-high{background:#fde2e0;color:var(--bad)}
.sev-medium{background:#fff1d6;color:#8a5300}
.sev-low,.sev-info{background:#e6eefc;color:#1c4fa8}
table{width:100%;border-collapse:collapse;table-layout:fixed}
th,td{text-align:left;vertical-align:top;padding:8px;border-bottom:1px solid var(--line);overflow-wrap:anywhere}
th{color:var(--muted);font-weight:600;font-size:14px}
td.now{background:var(--now)}
td.next{background:var(--next)}
tr.same td{background:none;color:var(--muted)}
ul{margin:0;padding-left:20px}
.decide{margin-top:24px;display:flex;flex-wrap:wrap;gap:12px;align-items:center}
button{font:inherit;font-weight:600;border:0;border-radius:8px;padding:12px 28px;color:#fff;cursor:pointer;min-width:160px}
button.approve{background:var(--ok)}
button.reject{background:var(--bad)}
.as{color:var(--muted)}
.done{border-left:6px solid var(--ok)}
.refused{border-left:6px solid var(--bad)}
@media (max-width:560px){
  h1{font-size:22px}
  dl{grid-template-columns:1fr;gap:0}
  dd{margin-bottom:8px}
  button{width:100%}
  th,td{padding:6px 4px;font-size:14px}
}
`.trim();

const STYLE_HASH = createHash('sha256').update(STYLE).digest('base64');

/** Nothing but the sheet above: no script, no image, no frame, forms only back to the guard. */
const HEADERS = {
  'Content-Type': 'text/html; charset=utf-8',
  'Cache-Control': 'no-store',
  'Content-Security-Policy': `default-src 'none'; style-src 'sha256-${STYLE_HASH}'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'`,
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
};

/** One line of text from outside, for HTML: controls made visible, markup escaped. */
const text = (value: string) => forHtml(forTextLine(value));
/** A block (JSON) from outside: line breaks kept, every other control made visible. */
const block = (value: string) => forHtml(forTerminal(value));

/** `2024-06-04 16:00 UTC`: one time format on every page. */
export function timeOf(iso: string): string {
  const at = new Date(iso);
  return Number.isNaN(at.getTime()) ? iso : `${at.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

function page(status: number, title: string, main: string): HtmlPage {
  const body =
    `<!doctype html><html lang="en"><head><meta charset="utf-8">` +
    `<meta name="viewport" content="width=device-width, initial-scale=1">` +
    `<title>${text(title)} · Rampart</title><style>${STYLE}</style></head>` +
    `<body><main><p class="brand">Rampart · remediation approval</p><h1>${text(title)}</h1>${main}</main></body></html>`;
  return { status, headers: { ...HEADERS }, body };
}

/** A short page: an error, a refusal, a link that no longer works. */
export function messagePage(status: number, title: string, message = '', tone: 'done' | 'refused' = 'refused'): HtmlPage {
  return page(status, title, message ? `<div class="card ${tone}"><p>${text(message)}</p></div>` : '');
}

/** `observed` and `desired`, flattened to setting paths, side by side; settings the fix leaves alone come last, greyed. */
export function settingRows(observed: unknown, desired: unknown): Array<{ setting: string; now: string; next: string; changes: boolean }> {
  const now = flatten(observed);
  const next = flatten(desired);
  const settings = [...new Set([...now.keys(), ...next.keys()])];
  const rows = settings.map((setting) => {
    const a = now.get(setting) ?? '(not set)';
    const b = next.has(setting) ? next.get(setting)! : a;
    return { setting, now: a, next: b, changes: a !== b };
  });
  return [...rows.filter((r) => r.changes), ...rows.filter((r) => !r.changes)];
}

function flatten(value: unknown, path = '', into = new Map<string, string>()): Map<string, string> {
  if (value !== null && typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length > 0) {
    for (const [key, inner] of Object.entries(value)) flatten(inner, path ? `${path}.${key}` : key, into);
  } else if (value !== undefined) {
    into.set(path || 'value', typeof value === 'string' ? value : JSON.stringify(value));
  }
  return into;
}

function whoWasAsked(record: ApprovalRecord): string[] {
  const approvers = record.rules?.approvers;
  if (!approvers) return [];
  return [
    ...approvers.emails.map((e) => `${e} (email link)`),
    ...approvers.slackUserIds.map((u) => `Slack user ${u}`),
    ...approvers.iamPrincipalArns.map((a) => `${a} (rampart approvals)`),
  ];
}

function actorLine(record: ApprovalRecord): string {
  const a = record.finding.actor;
  const who = a?.arn ?? a?.principalId ?? 'unknown';
  const via = a?.invokedBy ? ` via ${a.invokedBy}` : '';
  const what = record.finding.eventName ? ` with ${record.finding.eventName}` : '';
  const when = record.finding.eventTime ? ` at ${timeOf(record.finding.eventTime)}` : '';
  return `${who}${via}${what}${when}`;
}

function hoursLeft(expiresAt: string, now: Date): string {
  const ms = Date.parse(expiresAt) - now.getTime();
  if (!Number.isFinite(ms)) return '';
  if (ms <= 0) return ' (expired)';
  const hours = Math.floor(ms / 3_600_000);
  const minutes = Math.floor((ms % 3_600_000) / 60_000);
  return hours > 0 ? ` (in ${hours} h ${minutes} min)` : ` (in ${minutes} min)`;
}

function factsOf(record: ApprovalRecord): string {
  const f = record.finding;
  const facts: Array<[string, string]> = [
    ['Account', text(f.account || 'unknown')],
    ['Region', text(f.region ?? record.change.region)],
    ['Resource', `<code>${text(f.resourceArn)}</code>`],
    ['Control', `<code>${text(f.control)}</code>`],
    ['Severity', `<span class="sev sev-${text(f.severity)}">${text(f.severity)}</span>`],
    ['Changed by', `<code>${text(actorLine(record))}</code>`],
  ];
  return `<dl class="card">${facts.map(([k, v]) => `<dt>${k}</dt><dd>${v}</dd>`).join('')}</dl>`;
}

/** The confirmation page of a pending request (GET of an emailed link): it decides nothing. */
export function confirmationPage(record: ApprovalRecord, decision: ApprovalVerb, address: string, now: Date): HtmlPage {
  const f = record.finding;
  const verb = decision === 'approve' ? 'Approve' : 'Reject';
  const rows = settingRows(f.observed, f.desired);
  const table = rows.length
    ? `<table class="card"><thead><tr><th>Setting</th><th>Now</th><th>After the fix</th></tr></thead><tbody>${rows
        .map(
          (r) =>
            `<tr class="${r.changes ? 'change' : 'same'}"><td><code>${text(r.setting)}</code></td><td class="now">${text(r.now)}</td><td class="next">${text(r.next)}</td></tr>`,
        )
        .join('')}</tbody></table>`
    : '<p class="card">The finding records no settings to compare; the API call below is the whole change.</p>';
  // every call of the fix, in the order it is sent (a cancelled key deletion is followed by EnableKey)
  const call = stepsOf(record.change)
    .map((step, i) => `${i > 0 ? 'then ' : ''}${step.service}:${step.operation} in ${step.region}\n${JSON.stringify(step.input, null, 2)}`)
    .join('\n');
  const asked = whoWasAsked(record);
  const main =
    `<p class="violation">${text(f.violation)}</p>` +
    factsOf(record) +
    `<h2>What changes</h2>${table}` +
    `<h2>The exact API call</h2><div class="card"><pre>${block(call)}</pre>${
      record.change.notice ? `<p class="notice">${text(record.change.notice)}</p>` : ''
    }</div>` +
    `<h2>Why a person must agree</h2><div class="card"><p>${text(record.reason ?? 'This fix is high risk: the policy asks a named approver before it is applied.')}</p></div>` +
    `<h2>Who was asked</h2><div class="card">${
      asked.length ? `<ul>${asked.map((a) => `<li>${text(a)}</li>`).join('')}</ul>` : '<p>The approvers the policy lists.</p>'
    }<p>The first decision counts. The request expires ${text(timeOf(record.expiresAt))}${text(hoursLeft(record.expiresAt, now))}; nothing is changed if nobody decides.</p></div>` +
    `<form method="post" class="decide"><button type="submit" class="${decision}">${verb}</button>` +
    `<span class="as">You decide as <strong>${text(address)}</strong>.${decision === 'approve' ? ' The guard re-reads the resource and applies the call only if it is still exactly the planned one.' : ' Nothing is changed; the finding stays open for a person.'}</span></form>`;
  return page(200, `${verb} this fix?`, main);
}

/** A request someone already decided (or that ended): who, when; no button. */
export function decidedPage(record: ApprovalRecord): HtmlPage {
  const who = record.decidedBy ? ` by ${record.decidedBy}` : '';
  const when = record.decidedAt ? ` at ${timeOf(record.decidedAt)}` : '';
  const note = record.note ? ` ${record.note}` : '';
  return page(
    409,
    'Already decided',
    `<div class="card refused"><p>${text(`This request was already ${record.status}${who}${when}; nothing changed.${note}`)}</p></div>` +
      factsOf(record),
  );
}

/** After a decision made on this page. */
export function decisionPage(record: ApprovalRecord, decision: ApprovalVerb, by: string, at: string, uncertain = false): HtmlPage {
  const verb = decision === 'approve' ? 'Approved' : 'Rejected';
  const next =
    decision === 'approve'
      ? 'The workflow goes on: it applies the fix, checks it, and reports the outcome on the usual channels.'
      : 'Nothing is changed; the finding stays open and the rejection is reported.';
  const doubt = uncertain ? ' The workflow may have stopped waiting meanwhile: watch for its outcome.' : '';
  return page(
    200,
    verb,
    `<div class="card done"><p>${text(`${verb} by ${by} at ${timeOf(at)}. ${next}${doubt}`)}</p><p>You can close this page.</p></div>` +
      factsOf(record),
  );
}
