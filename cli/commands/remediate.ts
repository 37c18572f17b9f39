import { followUpsText } from '../../core/control';
import { z } from 'zod';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { createClientFactory, type AwsClients, type ClientFactory } from '../../core/aws';
import { ALL_CONTROLS, CONTROL_IDS } from '../../controls';
import { messageOf } from '../../core/errors';
import type { Finding } from '../../core/finding';
import { InMemoryLastKnownGood } from '../../core/last-known-good';
import type { RemediationResult } from '../../core/outcome';
import type { Policy } from '../../controls/policy';
import { remediate, type RemediationContext } from '../../remediators/remediate';
import { AwsAccessError, NO_CREDENTIALS, accessProblem, reportAwsFailure, requireRegion } from '../aws-access';
import { fixLedgerFor } from '../guard-table';
import { EXIT, loadPolicy, policyFile, write, type CliIo } from '../io';
import { changeText, compact } from '../render';
import { memberAccounts } from '../organization-scope';
import { findingSessionName } from '../../core/assume-role';
import { findingId } from '../../core/finding';
import type { FindingLine } from '../replay';

/** A `finding` line of `replay --json`: only what a fix needs is required. */
const findingLineSchema = z.looseObject({
  type: z.literal('finding').optional(),
  id: z.string().optional(),
  control: z.enum(CONTROL_IDS as [string, ...string[]]),
  resourceArn: z.string().min(1),
  resourceType: z.string().optional(),
  severity: z.enum(['low', 'medium', 'high']).default('medium'),
  region: z.string().optional(),
  account: z.string().optional(),
  observed: z.unknown().optional(),
  desired: z.unknown().optional(),
  violation: z.string().default(''),
  eventId: z.string().default('cli'),
});

export function parseFindingLine(text: string): Finding {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new Error(`--finding is not JSON: ${messageOf(error)}`, { cause: error });
  }
  const parsed = findingLineSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`--finding: ${issue.path.join('.') || '(top level)'}: ${issue.message}`);
  }
  return parsed.data as unknown as Finding;
}

export interface AwsOptions {
  region?: string;
  endpoint?: string;
  /** The deployed guard's table: its fix budget is the one a fix counts against. */
  table?: string;
}

/** The home region: `--region`, else the environment's, as the AWS CLI reads it. */
export function homeRegion(options: AwsOptions, env: NodeJS.ProcessEnv = process.env): string | undefined {
  return options.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
}

/**
 * The account the credentials act in (STS): `null` when there are no credentials at all,
 * `undefined` when STS cannot tell (an emulator without STS).
 */
export async function callerAccount(clients: AwsClients, options: AwsOptions): Promise<string | null | undefined> {
  try {
    // with the clients' own credentials: a member account's role answers that account
    const sts = options.endpoint ? new STSClient({ region: clients.region, endpoint: options.endpoint }) : clients.get(STSClient);
    const out = await sts.send(new GetCallerIdentityCommand({}));
    return out.Account;
  } catch (error) {
    return (error as { name?: string }).name === 'CredentialsProviderError' ? null : undefined;
  }
}

/**
 * The clients of the account the credentials act in. Throws {@link AwsAccessError} when there
 * is no region (an emulator endpoint defaults to us-east-1) or no credentials at all.
 */
export async function awsClientsFor(
  policy: Policy,
  options: AwsOptions,
  injected?: AwsClients,
): Promise<{ clients: AwsClients; account?: string }> {
  let home = injected;
  let factory: ClientFactory | undefined;
  if (!home) {
    const region = await requireRegion(options);
    factory = createClientFactory({ region, regions: policy.regions, endpoint: options.endpoint });
    home = factory.clientsFor({});
  }
  // asked once per run: the clients then carry the account, as the guard's own functions' do
  // (a control's listing may name account-wide resources: the account-level Block Public Access)
  const account = await callerAccount(home, options);
  if (account === null) throw new AwsAccessError(NO_CREDENTIALS);
  if (account === undefined || home.account !== undefined) return { clients: home, ...(account !== undefined ? { account } : {}) };
  const clients = factory ? factory.clientsFor({ account }) : { ...home, account };
  return { clients, account };
}

export async function contextFor(policy: Policy, options: AwsOptions, injected?: AwsClients): Promise<RemediationContext> {
  const { clients, account } = await awsClientsFor(policy, options, injected);
  return {
    controls: ALL_CONTROLS,
    policy,
    clients,
    account,
    lastKnownGood: new InMemoryLastKnownGood(),
    fixes: fixLedgerFor(options, policy.fixBudget).ledger,
    clock: () => new Date(),
  };
}

/** The human report of one remediation. */
export function resultText(r: RemediationResult): string {
  const lines = [`${r.control}  ${r.resourceArn}: ${r.outcome}`, `  ${r.reason}`];
  if (r.change) lines.push(`  ${r.change.operation} (${r.change.region}): ${JSON.stringify(r.change.input)}${followUpsText(r.change)}`);
  if (r.verifiedState !== undefined) lines.push(`  now: ${compact(r.verifiedState)}`);
  return lines.join('\n');
}

export const isCompliantOutcome = (r: RemediationResult) => r.outcome === 'remediated' || r.outcome === 'already-compliant';

export async function remediateCommand(
  options: AwsOptions & { config?: string; finding: string; json?: boolean },
  io: CliIo,
  clients?: AwsClients,
): Promise<number> {
  const file = policyFile(options.config, io);
  if (!file) return EXIT.usage;
  const policy = loadPolicy(file, undefined, io);
  if (!policy) return EXIT.usage;
  let finding: Finding;
  try {
    const text = options.finding === '-' ? await readAll(io) : options.finding;
    finding = parseFindingLine(text);
  } catch (error) {
    write(io.stderr, messageOf(error));
    return EXIT.usage;
  }
  if (!policy.controls[finding.control as keyof Policy['controls']]) {
    write(io.stderr, `control ${finding.control} is not enabled in ${file}`);
    return EXIT.usage;
  }
  let result: RemediationResult;
  try {
    // a member account's finding (the hub's table holds them): fixed through its remediate role
    const member = clients ? undefined : await memberScope(finding, policy, options);
    const ctx = await contextFor(member?.policy ?? policy, options, member?.clients ?? clients);
    result = await remediate(finding, ctx);
  } catch (error) {
    // a read that fails (no credentials, AccessDenied on the read) is reported, not thrown
    return reportAwsFailure(io, `remediate ${finding.resourceArn}`, error);
  }
  write(io.stdout, options.json ? JSON.stringify({ type: 'remediation', ...result }) : resultText(result));
  return isCompliantOutcome(result) ? EXIT.ok : EXIT.notCompliant;
}

/**
 * The member account of a finding, when the policy has an organization and the finding is of
 * another account than the caller's: its remediate role (session `rampart-<finding id>`, so the
 * member's CloudTrail names the finding) and its policy. `undefined` for the caller's own account.
 */
async function memberScope(
  finding: Finding,
  policy: Policy,
  options: AwsOptions,
): Promise<{ clients: AwsClients; policy: Policy } | undefined> {
  if (!policy.organization || !finding.account) return undefined;
  const members = await memberAccounts(policy, { ...options, account: [finding.account] });
  if (members.caller === finding.account) return undefined;
  const id = finding.id || findingId(finding.control, finding.account, finding.resourceArn);
  return {
    clients: members.clientsOf(finding.account, 'remediate', findingSessionName(id)),
    policy: await members.policyOf(finding.account),
  };
}

async function readAll(io: CliIo): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of io.stdin) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Fixes the resources of finding lines (`replay --apply`, `scan --fix`), once each: low-risk
 * ones, and high-risk ones only with `includeHighRisk`; the others are listed with the change
 * an approver would be asked for. Nothing is applied when the policy is in dry-run mode.
 */
export async function applyFindings(
  findings: FindingLine[],
  options: AwsOptions & { json?: boolean; includeHighRisk?: boolean },
  policy: Policy,
  io: CliIo,
  clients?: AwsClients,
): Promise<number> {
  if (policy.mode === 'dry-run') {
    write(io.stderr, 'the policy is in dry-run mode: nothing applied (set mode: enforce to fix)');
    return findings.length > 0 ? EXIT.notCompliant : EXIT.ok;
  }
  // with --json every finding gets its result line, also when the fix cannot even start
  const failed = (line: FindingLine, reason: string) =>
    options.json &&
    write(
      io.stdout,
      JSON.stringify({
        type: 'remediation',
        outcome: 'failed',
        control: line.control,
        resourceArn: line.resourceArn,
        change: null,
        reason,
      }),
    );
  let ctx: RemediationContext;
  try {
    ctx = await contextFor(policy, options, clients);
  } catch (error) {
    const sentence = accessProblem(error) ?? `cannot reach AWS: ${messageOf(error)}`;
    for (const line of findings) failed(line, sentence);
    write(io.stderr, sentence);
    return EXIT.usage;
  }
  let allCompliant = true;
  let unreachable = false;
  const forApproval: FindingLine[] = [];
  for (const line of findings) {
    if (line.risk === 'high' && !options.includeHighRisk) {
      allCompliant = false;
      forApproval.push(line);
      write(io.stderr, `skipped ${line.control} ${line.resourceArn}: a high-risk fix; it needs approval (--include-high-risk applies it)`);
      continue;
    }
    const { type: _type, risk: _risk, change: _change, reason: _reason, ...finding } = line;
    try {
      const result = await remediate(finding as Finding, ctx);
      allCompliant &&= isCompliantOutcome(result);
      write(options.json ? io.stdout : io.stderr, options.json ? JSON.stringify({ type: 'remediation', ...result }) : resultText(result));
    } catch (error) {
      allCompliant = false;
      const problem = accessProblem(error);
      unreachable ||= problem !== undefined;
      const reason = problem ?? `cannot remediate: ${messageOf(error)}`;
      failed(line, reason);
      write(io.stderr, `cannot remediate ${line.resourceArn}: ${reason}`);
    }
  }
  if (forApproval.length > 0) {
    write(
      io.stderr,
      `High-risk fixes need approval (not applied):\n${forApproval.map((l) => `  ${l.control}  ${l.resourceArn}: ${changeText(l)}`).join('\n')}`,
    );
  }
  if (unreachable) return EXIT.usage;
  return allCompliant ? EXIT.ok : EXIT.notCompliant;
}
