import { existsSync, mkdirSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { approvalLink } from '../../core/approval-links';
import { InMemoryApprovalStore, InMemoryFindingsStore } from '../../core/stores';
import { makeApprovalCallbackHandler } from '../../handlers/approval-callback';
import type { GuardDeps } from '../../handlers/deps';
import { EXAMPLE_POLICY_INPUT, policy as makePolicy } from '../helpers';
import { PENDING } from '../approval-fixture';

/**
 * The approval page in a real browser (Debian's chromium, driven by puppeteer-core), served
 * over loopback by the real approval handler with its real headers (the CSP included), at
 * desktop and phone width: what an approver sees is checked, then Approve is clicked. The
 * screenshots go to $RAMPART_SCREENSHOT_DIR (`npm run screenshots` writes docs/screenshots/).
 */

const CHROMIUM = process.env.PUPPETEER_EXECUTABLE_PATH ?? '/usr/bin/chromium';
const SHOTS = process.env.RAMPART_SCREENSHOT_DIR ?? join(tmpdir(), 'rampart-screenshots');
const SECRET = 's'.repeat(64);
const NOW = new Date('2024-06-03T16:00:00Z');

jest.setTimeout(180_000);

const sfn = mockClient(SFNClient);
let server: Server;
let browser: Browser;
let base: string;
let approvals: InMemoryApprovalStore;

async function bodyOf(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(`no browser at ${CHROMIUM}: install Debian's chromium (apt-get install chromium; .ci/run does)`);
  sfn.on(SendTaskSuccessCommand).resolves({});
  approvals = new InMemoryApprovalStore();
  await approvals.create(PENDING);
  const findings = new InMemoryFindingsStore();
  await findings.open(PENDING.finding, NOW);
  const deps = {
    policy: makePolicy({
      ...EXAMPLE_POLICY_INPUT,
      approvals: { approvers: PENDING.rules!.approvers },
    }),
    approvals,
    findings,
    sfn: new SFNClient({ region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } }),
    secrets: { get: async () => SECRET },
    config: { approvalSecretArn: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:approvals' },
    clock: () => NOW,
  } as unknown as GuardDeps;
  const handler = makeApprovalCallbackHandler(() => deps);
  // API Gateway's proxy integration, as far as the handler reads it
  server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const [id, decision] = url.pathname.split('/').slice(-2);
      const result = await handler({
        httpMethod: req.method,
        resource: '/approvals/{id}/{decision}',
        path: url.pathname,
        pathParameters: { id: decodeURIComponent(id ?? ''), decision },
        queryStringParameters: Object.fromEntries(url.searchParams),
        headers: req.headers as Record<string, string>,
        body: req.method === 'POST' ? await bodyOf(req) : null,
        isBase64Encoded: false,
      } as unknown as APIGatewayProxyEvent);
      res.writeHead(result.statusCode, result.headers as Record<string, string>);
      res.end(result.body);
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/approvals/`;
  browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
    ],
  });
});

afterAll(async () => {
  await browser?.close();
  // no server when the set-up failed before starting it: the failure, not a hung hook, is the report
  if (server) await new Promise((resolve) => server.close(resolve));
  sfn.restore();
});

const linkFor = (by: string) => approvalLink(SECRET, base, PENDING.id, 'approve', new Date(PENDING.expiresAt), by);

async function open(width: number, height: number, url: string): Promise<{ page: Page; refused: string[] }> {
  const page = await browser.newPage();
  const refused: string[] = [];
  // a CSP violation (the style sheet's hash not matching, say) shows as a console error
  page.on('console', (m) => {
    if (m.type() === 'error') refused.push(m.text());
  });
  await page.setViewport({ width, height, deviceScaleFactor: 1, isMobile: width < 600, hasTouch: width < 600 });
  await page.goto(url, { waitUntil: 'load' });
  return { page, refused };
}

interface Measured {
  text: string;
  scrollWidth: number;
  clientWidth: number;
  button?: { left: number; right: number; width: number; height: number; label: string };
  tableRight?: number;
  styled: string;
}

/** What is rendered and its layout, as the browser measures it (run in the page: the project has no DOM types). */
const MEASURE = `(() => {
  const button = document.querySelector('button');
  const box = button && button.getBoundingClientRect();
  const table = document.querySelector('table');
  return {
    text: document.body.innerText,
    scrollWidth: document.documentElement.scrollWidth,
    clientWidth: document.documentElement.clientWidth,
    button: box ? { left: box.left, right: box.right, width: box.width, height: box.height, label: button.textContent } : undefined,
    tableRight: table ? table.getBoundingClientRect().right : undefined,
    styled: getComputedStyle(document.body).backgroundColor,
  };
})()`;
const measure = (page: Page) => page.evaluate(MEASURE) as Promise<Measured>;

describe.each([
  ['desktop', 1280, 900],
  ['phone', 390, 844],
])('the approval page at %s width', (name, width, height) => {
  it('shows everything an approver needs, fits the screen and is styled under its CSP', async () => {
    const { page, refused } = await open(width, height, linkFor('alice@example.com'));
    const seen = await measure(page);
    mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: join(SHOTS, `approval-${name}.png`), fullPage: true });
    await page.close();

    for (const shown of [
      'Approve this fix?',
      '111122223333',
      'eu-west-1',
      PENDING.finding.resourceArn,
      'apigateway-throttling',
      'HIGH',
      'arn:aws:sts::111122223333:assumed-role/Deployer/mallory',
      'apigateway:UpdateStage in eu-west-1',
      PENDING.reason!,
      'bob@example.com (email link)',
      'expires 2024-06-04 16:00 UTC',
      'You decide as alice@example.com.',
    ]) {
      expect(seen.text).toContain(shown);
    }
    expect(seen.text).toMatch(/rateLimit\s+5000\s+100/);
    expect(refused).toEqual([]);
    expect(seen.styled).toBe('rgb(245, 247, 250)'); // the sheet applied: the CSP hash matches it
    expect(seen.scrollWidth).toBeLessThanOrEqual(seen.clientWidth); // no sideways scrolling
    expect(seen.tableRight).toBeLessThanOrEqual(seen.clientWidth);
    expect(seen.button?.label).toBe('Approve');
    expect(seen.button!.right).toBeLessThanOrEqual(seen.clientWidth);
    expect(seen.button!.height).toBeGreaterThanOrEqual(44); // a thumb-sized target
    if (name === 'phone') expect(seen.button!.width).toBeGreaterThan(width * 0.8);
  });
});

it('decides on the click and then says who decided, also when the link is opened again', async () => {
  const { page } = await open(390, 844, linkFor('alice@example.com'));
  await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.click('button.approve')]);
  const after = await measure(page);
  await page.screenshot({ path: join(SHOTS, 'approval-decided-phone.png'), fullPage: true });
  await page.goto(linkFor('bob@example.com'), { waitUntil: 'load' });
  const later = await measure(page);
  await page.close();

  expect(after.text).toContain('Approved by alice@example.com at 2024-06-03 16:00 UTC');
  expect(after.button).toBeUndefined();
  expect(sfn).toHaveReceivedCommandWith(SendTaskSuccessCommand, { taskToken: 'token' });
  expect(later.text).toContain('This request was already approved by alice@example.com at 2024-06-03 16:00 UTC');
  expect(await approvals.get(PENDING.id)).toMatchObject({ status: 'approved', decidedBy: 'alice@example.com' });
});
