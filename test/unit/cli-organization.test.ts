import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ListAccountsCommand,
  ListAccountsForParentCommand,
  ListOrganizationalUnitsForParentCommand,
  ListParentsCommand,
  OrganizationsClient,
} from '@aws-sdk/client-organizations';
import { mockClient } from 'aws-sdk-client-mock';
import { listFindings } from '../../cli/commands/findings';
import type { CliIo } from '../../cli/io';
import type { Finding } from '../../core/finding';
import { InMemoryFindingsStore } from '../../core/stores';
import { FakeAws, FakeSts } from '../fakes';
import { jsonLines, runCli } from '../helpers';
import { PassThrough, Readable } from 'node:stream';

const CALLER = '111122223333';
const MEMBER = '444455556666';
const OTHER = '777788889999';
const SANDBOX = '555566667777';
const SANDBOX_OU = 'ou-ab12-sandbox1';
const AES256 = { ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' as const } };

const tmp = mkdtempSync(join(tmpdir(), 'rampart-org-'));
const POLICY = join(tmp, 'org.yaml');
writeFileSync(
  POLICY,
  [
    'organization:',
    '  id: o-a1b2c3d4e5',
    '  regions: [us-east-1]',
    `  excludeAccounts: ["999988887777"]`,
    'overrides:',
    `  - organizationalUnits: [${SANDBOX_OU}]`,
    '    mode: dry-run',
    'controls:',
    '  s3-default-encryption: { algorithm: AES256 }',
    '',
  ].join('\n'),
);
const SINGLE = join(tmp, 'single.yaml');
writeFileSync(SINGLE, ['controls:', '  s3-default-encryption: { algorithm: AES256 }', ''].join('\n'));

describe('rampart scan across an organization (--org, --account, --ou)', () => {
  const organizations = mockClient(OrganizationsClient);
  let aws: FakeAws;
  let sts: FakeSts;
  const env = { ...process.env };

  beforeEach(() => {
    // the caller's own credentials (the default chain reads them from the environment)
    Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'AKIACALLER', AWS_SECRET_ACCESS_KEY: 'secret', AWS_REGION: 'us-east-1' });
    aws = new FakeAws();
    sts = new FakeSts(aws.world);
    organizations.reset();
    organizations.on(ListAccountsCommand).resolves({
      Accounts: [
        { Id: CALLER, Name: 'security', State: 'ACTIVE' },
        { Id: MEMBER, Name: 'payments', State: 'ACTIVE' },
        { Id: OTHER, Name: 'no-member-stack', State: 'ACTIVE' },
        { Id: SANDBOX, Name: 'sandbox', State: 'ACTIVE' },
        { Id: '999988887777', Name: 'excluded', State: 'ACTIVE' },
        { Id: '222233334444', Name: 'closed', State: 'SUSPENDED' },
      ],
    });
    organizations.on(ListParentsCommand).callsFake((input: { ChildId: string }) => ({
      Parents: [input.ChildId === SANDBOX ? { Id: SANDBOX_OU, Type: 'ORGANIZATIONAL_UNIT' } : { Id: 'r-ab12', Type: 'ROOT' }],
    }));
    organizations.on(ListAccountsForParentCommand).callsFake((input: { ParentId: string }) => ({
      Accounts: input.ParentId === SANDBOX_OU ? [{ Id: SANDBOX }] : [],
    }));
    organizations.on(ListOrganizationalUnitsForParentCommand).resolves({ OrganizationalUnits: [] });
    aws.services.s3.bucketsOf(MEMBER).set('payments-logs', { region: 'us-east-1' });
    aws.services.s3.bucketsOf(MEMBER).set('payments-ok', { region: 'us-east-1', rule: AES256 });
    aws.services.s3.bucketsOf(SANDBOX).set('sandbox-logs', { region: 'us-east-1' });
    aws.services.s3.bucketsOf(CALLER).set('security-logs', { region: 'us-east-1' });
    sts.unreachable.add(OTHER);
  });
  afterEach(() => {
    aws.restore();
    sts.mock.restore();
    process.env = { ...env };
  });
  afterAll(() => organizations.restore());

  it('finds the drift of each member account through its read role, and reports the one it cannot enter', async () => {
    const { code, stdout, stderr } = await runCli(['scan', '--org', '-c', POLICY, '--json']);

    const lines = jsonLines(stdout);
    const findings = lines.filter((l) => l.type === 'finding');
    expect(findings.map((f) => [f.account, f.resourceArn]).sort()).toEqual([
      [CALLER, 'arn:aws:s3:::security-logs'],
      [MEMBER, 'arn:aws:s3:::payments-logs'],
      [SANDBOX, 'arn:aws:s3:::sandbox-logs'],
    ]);
    const unreachable = lines.filter((l) => l.type === 'error');
    expect(unreachable).toEqual([
      expect.objectContaining({
        position: `account ${OTHER}`,
        account: OTHER,
        message: expect.stringMatching(/cannot assume .*AccessDenied/),
      }),
    ]);
    expect(lines.at(-1)).toMatchObject({ type: 'summary', accounts: 4, unreachable: 1, findings: 3 });
    // each member entered with its own read role; the caller's own account with its own credentials
    expect(new Set(sts.calls.map((c) => c.roleArn))).toEqual(
      new Set([MEMBER, OTHER, SANDBOX].map((a) => `arn:aws:iam::${a}:role/RampartRead`)),
    );
    expect(sts.calls.every((c) => c.session === 'rampart-scan')).toBe(true);
    expect(stderr).toMatch(new RegExp(`account 2/4 ${MEMBER}`));
    expect(code).toBe(1);
  });

  it('narrows to --ou and --account', async () => {
    const byOu = jsonLines((await runCli(['scan', '--ou', SANDBOX_OU, '-c', POLICY, '--json'])).stdout);
    expect(byOu.filter((l) => l.type === 'finding').map((f) => f.account)).toEqual([SANDBOX]);
    expect(byOu.at(-1)).toMatchObject({ accounts: 1 });

    const byAccount = jsonLines((await runCli(['scan', '--account', MEMBER, '-c', POLICY, '--json'])).stdout);
    expect(byAccount.filter((l) => l.type === 'finding').map((f) => f.account)).toEqual([MEMBER]);
    // --account alone takes the ids as given: the organization is not listed
    expect(organizations.commandCalls(ListAccountsCommand)).toHaveLength(1);
  });

  it('fixes a member account through its remediate role with --fix, and not one whose OU override is dry-run', async () => {
    const { stdout } = await runCli(['scan', '--org', '-c', POLICY, '--json', '--fix']);

    const results = jsonLines(stdout).filter((l) => l.type === 'remediation');
    expect(results.map((r) => [r.resourceArn, r.outcome]).sort()).toEqual([
      ['arn:aws:s3:::payments-logs', 'remediated'],
      ['arn:aws:s3:::security-logs', 'remediated'],
    ]);
    expect(aws.services.s3.bucketsOf(MEMBER).get('payments-logs')?.rule).toEqual(AES256);
    expect(aws.services.s3.bucketsOf(SANDBOX).get('sandbox-logs')?.rule).toBeUndefined();
    expect(sts.calls.some((c) => c.roleArn === `arn:aws:iam::${MEMBER}:role/RampartRemediate`)).toBe(true);
  });

  it("remediates one finding of a member account with that account's remediate role, named for the finding", async () => {
    const finding = {
      control: 's3-default-encryption',
      resourceArn: 'arn:aws:s3:::payments-logs',
      region: 'us-east-1',
      account: MEMBER,
      id: 'a'.repeat(24),
    };
    const { code, stdout } = await runCli(['remediate', '-c', POLICY, '--json', '--finding', JSON.stringify(finding)]);

    expect(JSON.parse(stdout)).toMatchObject({ type: 'remediation', outcome: 'remediated' });
    expect(code).toBe(0);
    expect(aws.services.s3.bucketsOf(MEMBER).get('payments-logs')?.rule).toEqual(AES256);
    expect(sts.calls).toEqual([{ roleArn: `arn:aws:iam::${MEMBER}:role/RampartRemediate`, session: `rampart-${'a'.repeat(24)}` }]);
  });

  it('says what is missing: no organization in the policy, a malformed id', async () => {
    const noOrg = await runCli(['scan', '--org', '-c', SINGLE]);
    expect(noOrg).toMatchObject({ code: 2, stderr: expect.stringMatching(/need an organization: block in the policy/) });
    const badId = await runCli(['scan', '--account', '4444', '-c', POLICY]);
    expect(badId).toMatchObject({ code: 2, stderr: expect.stringMatching(/--account takes 12-digit account ids, not "4444"/) });
  });
});

describe('rampart findings list --account', () => {
  function io(): CliIo & { out: () => string } {
    const stdout = new PassThrough();
    const chunks: Buffer[] = [];
    stdout.on('data', (c: Buffer) => chunks.push(c));
    return { stdout, stderr: new PassThrough(), stdin: Readable.from([]), out: () => Buffer.concat(chunks).toString('utf8') };
  }

  it("lists only the findings of the accounts named, from the hub's one table", async () => {
    const store = new InMemoryFindingsStore();
    const finding = (account: string, bucket: string): Finding => ({
      id: `${account}-${bucket}`,
      control: 's3-default-encryption',
      severity: 'medium',
      resourceArn: `arn:aws:s3:::${bucket}`,
      resourceType: 'AWS::S3::Bucket',
      account,
      observed: null,
      desired: 'AES256',
      violation: 'bucket has no default encryption',
      eventId: 'e',
    });
    await store.open(finding(MEMBER, 'logs'), new Date('2024-06-03T16:00:00Z'));
    await store.open(finding(OTHER, 'logs'), new Date('2024-06-03T16:01:00Z'));
    const out = io();

    expect(await listFindings({ account: [MEMBER], json: true }, out, store)).toBe(0);

    const records = jsonLines(out.out()).filter((l) => l.type === 'finding-record');
    expect(records.map((r) => (r.finding as Finding).account)).toEqual([MEMBER]);
  });
});
