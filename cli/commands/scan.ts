import type { AwsClients } from '../../core/aws';
import { reportAwsFailure } from '../aws-access';
import type { ControlId } from '../../core/controls';
import { InMemoryLastKnownGood } from '../../core/last-known-good';
import { decide } from '../../detectors/decide';
import { sweep } from '../../detectors/sweep';
import { EXIT, loadPolicy, policyFile, write, writeRendered, type CliIo } from '../io';
import { findingsTable, styleFor, wrap } from '../findings-table';
import { renderDocument } from '../formats';
import { FAIL_ON_EXIT, failsGate, formatOf, type OutputOptions } from '../options';
import { rampartVersion } from '../version';
import { carryOutOffline, emptySummary, type FindingLine, type ReplayLine, type ReplaySummary } from '../replay';
import { applyFindings, awsClientsFor, type AwsOptions } from './remediate';
import {
  memberAccounts,
  OrganizationUsageError,
  wantsOrganization,
  type MemberAccounts,
  type OrganizationOptions,
} from '../organization-scope';
import type { Policy } from '../../controls/policy';
import { DETECTORS } from '../../controls';

export interface ScanOptions extends AwsOptions, OutputOptions, OrganizationOptions {
  config?: string;
  control?: string[];
  fix?: boolean;
  includeHighRisk?: boolean;
  concurrency?: string;
}

/** The `scan` summary: the replay summary's keys (scripts read both alike), resource checks for events. */
export interface ScanSummary extends ReplaySummary {
  sweepId: string;
  /** Resource checks: a resource counts once per control that guards it. */
  resources: number;
  /** With `--org`/`--account`/`--ou`: the member accounts scanned, and those whose role could not be assumed. */
  accounts?: number;
  unreachable?: number;
}

/** One account to sweep: its clients and its policy (overrides merged in an organization). */
interface ScanTarget {
  account?: string;
  clients: AwsClients;
  policy: Policy;
}

/** Progress on stderr, never stdout: a bar redrawn in place on a terminal, a line every few seconds otherwise. */
function progress(io: CliIo) {
  const tty = Boolean((io.stderr as { isTTY?: boolean }).isTTY);
  let last = 0;
  let where = '';
  return {
    /** A new account (organization scans): its own line, the bar counts on over the accounts. */
    account(index: number, total: number, account: string, s: ScanSummary) {
      if (where) this.tick(s, true);
      if (where && tty) io.stderr.write('\n');
      where = `account ${index + 1}/${total} ${account}: `;
      this.tick(s, true);
    },
    tick(s: ScanSummary, force = false) {
      const now = Date.now();
      if (!force && now - last < (tty ? 100 : 5000)) return;
      last = now;
      const text = `scanning${where ? ` ${where}` : ': '}${s.resources} resource checks, ${s.findings} violations, ${s.errors} unreadable`;
      io.stderr.write(tty ? `\r${text}` : `${text}\n`);
    },
    done(s: ScanSummary) {
      this.tick(s, true);
      if (tty) io.stderr.write('\n');
    },
  };
}

/**
 * `rampart scan`: the sweep from a laptop, against the account of the usual credential chain.
 * Prints the same lines as `replay --json` (finding lines carry the planned change), with
 * `eventId` naming the sweep.
 */
export async function scanCommand(options: ScanOptions, io: CliIo, injected?: AwsClients): Promise<number> {
  const file = policyFile(options.config, io);
  if (!file) return EXIT.usage;
  const policy = loadPolicy(file, options.control, io);
  if (!policy) return EXIT.usage;
  const concurrency = options.concurrency === undefined ? policy.sweep.concurrency : Number(options.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    write(io.stderr, `--concurrency must be a whole number ≥ 1, not ${options.concurrency}`);
    return EXIT.usage;
  }
  const sweepId = `sweep-${new Date().toISOString()}`;
  const summary: ScanSummary = { ...emptySummary(), sweepId, resources: 0 };
  const bar = progress(io);
  const lastKnownGood = new InMemoryLastKnownGood();
  const shown: ReplayLine[] = [];
  const format = formatOf(options);
  // finding lines are kept in every format: --fix fixes them after the sweep
  const emit = (line: ReplayLine) => {
    if (format !== 'json' || line.type === 'finding') shown.push(line);
    return format === 'json' ? write(io.stdout, JSON.stringify(line)) : undefined;
  };
  let gate = false;
  let targets: ScanTarget[];
  let members: MemberAccounts | undefined;
  try {
    if (wantsOrganization(options)) {
      members = await memberAccounts(policy, options);
      if (members.accounts.length === 0) write(io.stderr, 'warning: no account of the organization matches the policy and the filters');
      targets = [];
      for (const a of members.accounts)
        targets.push({ account: a.id, clients: members.clientsOf(a.id, 'read', 'rampart-scan'), policy: await members.policyOf(a.id) });
      Object.assign(summary, { accounts: targets.length, unreachable: 0 });
    } else {
      const { clients, account } = await awsClientsFor(policy, options, injected);
      targets = [{ account, clients, policy }];
    }
  } catch (error) {
    if (error instanceof OrganizationUsageError) {
      write(io.stderr, error.message);
      return EXIT.usage;
    }
    return reportAwsFailure(io, 'scan', error);
  }
  for (const [index, target] of targets.entries()) {
    if (members) bar.account(index, targets.length, target.account!, summary);
    for await (const item of sweep(target.policy, target.clients, {
      detectors: DETECTORS,
      sweepId,
      concurrency,
      account: target.account,
      controls: options.control as ControlId[] | undefined,
    })) {
      if (item.kind === 'list-error') {
        summary.errors++;
        if (members && item.unreachable) {
          // the account cannot be entered at all: said once, and the next account is scanned
          summary.unreachable!++;
          await emit({
            type: 'error',
            file: sweepId,
            position: `account ${target.account}`,
            account: target.account,
            message: item.message,
          });
          break;
        }
        await emit({
          type: 'error',
          file: sweepId,
          position: `${item.control} (listing)`,
          ...(members ? { account: target.account } : {}),
          message: item.message,
        });
        continue;
      }
      summary.resources++;
      summary.events++;
      if (item.kind === 'error') {
        summary.errors++;
        await emit({ type: 'error', file: sweepId, position: `${item.control} ${item.resourceArn}`, message: item.message });
      } else {
        summary.matched++;
        await carryOutOffline(decide(item.judgement), {
          summary,
          emit: (line) => {
            if (line.type === 'finding') gate ||= failsGate([line], options.failOn);
            return emit(line);
          },
          policy: target.policy,
          lastKnownGood,
          plan: true,
          seenAt: new Date(),
        });
      }
      bar.tick(summary);
    }
  }
  bar.done(summary);
  const findings = shown.filter((l): l is FindingLine => l.type === 'finding');
  const accounts = members ? `${summary.accounts} accounts (${summary.unreachable} unreachable), ` : '';
  const totals = `${accounts}${summary.resources} resource checks: ${summary.findings} violations, ${summary.compliant} compliant, ${summary.unknown} unknown, ${summary.exempt} exempt, ${summary.errors} unreadable (${sweepId})`;
  if (format === 'json') write(io.stdout, JSON.stringify(summary));
  else {
    for (const l of shown) if (l.type === 'error') write(io.stderr, `cannot read ${l.position}: ${l.message}`);
    if (format === 'table') {
      const style = { ...styleFor(io.stdout), plan: true, wouldFix: !options.fix || policy.mode === 'dry-run' };
      if (findings.length > 0) writeRendered(io.stdout, findingsTable(findings, style));
      write(io.stdout, `${findings.length > 0 ? '\n' : ''}${wrap(totals, style.width, 2, 0).join('\n')}`);
    } else {
      const doc = renderDocument(format, findings, {
        version: rampartVersion(),
        now: new Date(),
        policyFile: file,
        region: targets[0]?.clients.region ?? options.region ?? '',
        account: members ? undefined : targets[0]?.account,
      });
      for (const warning of doc.warnings) write(io.stderr, `warning: ${warning}`);
      await write(io.stdout, doc.text);
      write(io.stderr, totals);
    }
  }
  let exit: number = summary.errors > 0 ? EXIT.badInput : EXIT.ok;
  if (options.fix) {
    const fixOptions = { ...options, json: format === 'json' };
    if (!members) exit = Math.max(exit, await applyFindings(findings, fixOptions, policy, io, targets[0]!.clients));
    // in an organization: each account's findings with its own policy, through its remediate role
    else
      for (const target of targets) {
        const own = findings.filter((f) => f.account === target.account);
        if (own.length === 0) continue;
        const clients = members.clientsOf(target.account!, 'remediate', `rampart-scan-fix-${target.account}`);
        exit = Math.max(exit, await applyFindings(own, fixOptions, target.policy, io, clients));
      }
  }
  return exit !== EXIT.usage && gate ? FAIL_ON_EXIT : exit;
}
