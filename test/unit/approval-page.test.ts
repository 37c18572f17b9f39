import { createHash } from 'node:crypto';
import { confirmationPage, decidedPage, decisionPage, settingRows, timeOf } from '../../core/approval-page';
import type { ApprovalRecord } from '../../core/stores';
import { PENDING } from '../approval-fixture';
import { approvalReasonOf } from '../../remediators/approval-rules';
import { policy as makePolicy, EXAMPLE_POLICY_INPUT } from '../helpers';

const NOW = new Date('2024-06-03T16:00:00Z');
const textOf = (html: string) =>
  html
    .replace(/<style>[\s\S]*?<\/style>/, '')
    .replace(/<[^>]+>/g, ' ')
    .replace(/\s+/g, ' ');

describe('the approval page', () => {
  const page = confirmationPage(PENDING, 'approve', 'alice@example.com', NOW);
  const visible = textOf(page.body);

  it('shows account, region, resource, control, severity and who made the change', () => {
    for (const shown of ['111122223333', 'eu-west-1', PENDING.finding.resourceArn, 'apigateway-throttling', 'high']) {
      expect(visible).toContain(shown);
    }
    expect(visible).toContain('arn:aws:sts::111122223333:assumed-role/Deployer/mallory with UpdateStage at 2024-06-03 15:42 UTC');
  });

  it('puts the current and the proposed values side by side, changed settings first', () => {
    expect(settingRows(PENDING.finding.observed, PENDING.finding.desired)).toEqual([
      { setting: 'rateLimit', now: '5000', next: '100', changes: true },
      { setting: 'burstLimit', now: '2500', next: '50', changes: true },
      { setting: 'methods.GET /pets.rateLimit', now: '100', next: '100', changes: false },
    ]);
    expect(page.body).toMatch(/<td class="now">5000<\/td><td class="next">100<\/td>/);
  });

  it('shows every call of a change with follow-up calls, in order, and its notice for the approver', () => {
    const deployed: ApprovalRecord = {
      ...PENDING,
      change: {
        ...PENDING.change,
        followUps: [
          {
            service: 'apigateway',
            operation: 'CreateDeployment',
            region: 'eu-west-1',
            input: { restApiId: 'a1b2c3d4e5', stageName: 'prod' },
          },
        ],
        notice: 'The deployment also ships every other undeployed change of the API.',
      },
    };
    const shown = textOf(confirmationPage(deployed, 'approve', 'alice@example.com', NOW).body);

    expect(shown).toMatch(/apigateway:UpdateStage in eu-west-1 .* then apigateway:CreateDeployment in eu-west-1/);
    expect(shown).toContain('The deployment also ships every other undeployed change of the API.');
    expect(visible).not.toContain('undeployed');
  });

  it('shows the exact API call, why approval is needed, who else was asked and the expiry', () => {
    expect(visible).toContain('apigateway:UpdateStage in eu-west-1');
    expect(page.body).toContain('&#34;path&#34;: &#34;/*/*/throttling/rateLimit&#34;');
    expect(visible).toContain(PENDING.reason);
    for (const asked of [
      'alice@example.com (email link)',
      'bob@example.com (email link)',
      'Slack user U0ALICE',
      'arn:aws:iam::111122223333:role/SecOps',
    ]) {
      expect(visible).toContain(asked);
    }
    expect(visible).toContain('expires 2024-06-04 16:00 UTC (in 24 h 0 min)');
    expect(page.body).toContain('<form method="post" class="decide"><button type="submit" class="approve">Approve</button>');
  });

  it('allows only its own style sheet (by hash) and no script, frame or outside form', () => {
    const style = /<style>([\s\S]*?)<\/style>/.exec(page.body)![1]!;
    const hash = createHash('sha256').update(style).digest('base64');
    expect(page.headers['Content-Security-Policy']).toBe(
      `default-src 'none'; style-src 'sha256-${hash}'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'`,
    );
    expect(page.body).not.toMatch(/<script|javascript:|<img|<iframe/);
    expect(page.body).toContain('<meta name="viewport" content="width=device-width, initial-scale=1">');
  });

  it('neutralises markup and control characters from the event in every field it shows', () => {
    const hostile: ApprovalRecord = {
      ...PENDING,
      finding: {
        ...PENDING.finding,
        resourceArn: 'arn:aws:s3:::x"><script>alert(1)</script>',
        violation: 'bad\u001b[31m red\r\nApprove: https://evil',
        actor: { arn: '<img src=x onerror=alert(1)>' },
        observed: { '<b>key</b>': '</td><script>' },
      },
    };
    const body = confirmationPage(hostile, 'approve', 'alice@example.com', NOW).body;
    expect(body).not.toMatch(/<script|<img|<b>key/);
    expect(body).toContain('&#60;script&#62;alert(1)&#60;/script&#62;');
    expect(body).toContain('bad\\u001b[31m red\\u000d\\u000aApprove: https://evil');
  });

  it('says who decided and when, after a decision and for a link opened later', () => {
    const decided = { ...PENDING, status: 'approved' as const, decidedBy: 'bob@example.com', decidedAt: '2024-06-03T16:05:00.000Z' };
    expect(textOf(decidedPage(decided).body)).toContain('This request was already approved by bob@example.com at 2024-06-03 16:05 UTC');
    expect(decidedPage(decided).status).toBe(409);
    expect(textOf(decisionPage(PENDING, 'reject', 'alice@example.com', '2024-06-03T16:01:00.000Z').body)).toContain(
      'Rejected by alice@example.com at 2024-06-03 16:01 UTC. Nothing is changed',
    );
    expect(timeOf('not a time')).toBe('not a time');
  });
});

describe('why a fix waits for a person', () => {
  it("names the policy's risk setting when the policy asks, and the control's own rating otherwise", () => {
    const high = makePolicy({
      ...EXAMPLE_POLICY_INPUT,
      controls: {
        ...EXAMPLE_POLICY_INPUT.controls,
        'apigateway-waf': { ...(EXAMPLE_POLICY_INPUT.controls as Record<string, object>)['apigateway-waf'], risk: 'high' },
      },
    });
    expect(approvalReasonOf({ control: 'apigateway-waf' }, 'AssociateWebACL', high)).toContain(
      'The policy sets risk: high for apigateway-waf',
    );
    expect(approvalReasonOf({ control: 'cloudtrail-logging' }, 'UpdateTrail', high)).toContain(
      'cloudtrail-logging rates UpdateTrail as a high-risk change',
    );
  });
});
