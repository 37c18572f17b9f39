import type { AwsClients } from '../../core/aws';
import { reportAwsFailure } from '../aws-access';
import type { ControlId } from '../../core/controls';
import { InMemoryLastKnownGood } from '../../core/last-known-good';
import { decide } from '../../detectors/decide';
import { sweep } from '../../detectors/sweep';
import { EXIT, loadPolicy, policyFile, write, type CliIo } from '../io';
import { changeText, findingRows, table } from '../render';
import { carryOutOffline, emptySummary, type FindingLine, type ReplayLine, type ReplaySummary } from '../replay';
import { applyFindings, awsClientsFor, type AwsOptions } from './remediate';
import { DETECTORS } from '../../controls';

export interface ScanOptions extends AwsOptions {
  config?: string;
  control?: string[];
  fix?: boolean;
  includeHighRisk?: boolean;
  json?: boolean;
  concurrency?: string;
}

/** The `scan` summary: the replay summary's keys (scripts read both alike), resource checks for events. */
export interface ScanSummary extends ReplaySummary {
  sweepId: string;
  /** Resource checks: a resource counts once per control that guards it. */
  resources: number;
}

/** Progress on stderr, never stdout: a bar redrawn in place on a terminal, a line every few seconds otherwise. */
function progress(io: CliIo) {
  const tty = Boolean((io.stderr as { isTTY?: boolean }).isTTY);
  let last = 0;
  return {
    tick(s: ScanSummary, force = false) {
      const now = Date.now();
      if (!force && now - last < (tty ? 100 : 5000)) return;
      last = now;
      const text = `scanning: ${s.resources} resource checks, ${s.findings} violations, ${s.errors} unreadable`;
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
  const emit = (line: ReplayLine) => (options.json ? write(io.stdout, JSON.stringify(line)) : (shown.push(line), undefined));
  let clients: AwsClients;
  let account: string | undefined;
  try {
    ({ clients, account } = await awsClientsFor(policy, options, injected));
  } catch (error) {
    return reportAwsFailure(io, 'scan', error);
  }
  for await (const item of sweep(policy, clients, {
    detectors: DETECTORS,
    sweepId,
    concurrency,
    account,
    controls: options.control as ControlId[] | undefined,
  })) {
    if (item.kind === 'list-error') {
      summary.errors++;
      await emit({ type: 'error', file: sweepId, position: `${item.control} (listing)`, message: item.message });
      continue;
    }
    summary.resources++;
    summary.events++;
    if (item.kind === 'error') {
      summary.errors++;
      await emit({ type: 'error', file: sweepId, position: `${item.control} ${item.resourceArn}`, message: item.message });
    } else {
      summary.matched++;
      await carryOutOffline(decide(item.judgement), { summary, emit, policy, lastKnownGood, plan: true, seenAt: new Date() });
    }
    bar.tick(summary);
  }
  bar.done(summary);
  const findings = shown.filter((l): l is FindingLine => l.type === 'finding');
  if (options.json) write(io.stdout, JSON.stringify(summary));
  else {
    if (findings.length > 0) {
      write(io.stdout, table(['CONTROL', 'RESOURCE', 'OBSERVED → DESIRED', 'ACTOR', 'TIME'], findingRows(findings)));
      write(io.stdout, '\nPlanned changes:');
      for (const f of findings) write(io.stdout, `  ${f.control}  ${f.resourceArn}\n    ${changeText(f)}`);
    }
    for (const l of shown) if (l.type === 'error') write(io.stderr, `cannot read ${l.position}: ${l.message}`);
    write(
      io.stdout,
      `${findings.length > 0 ? '\n' : ''}${summary.resources} resource checks: ${summary.findings} violations, ${summary.compliant} compliant, ${summary.unknown} unknown, ${summary.exempt} exempt, ${summary.errors} unreadable (${sweepId})`,
    );
  }
  let exit: number = summary.errors > 0 ? EXIT.badInput : EXIT.ok;
  if (options.fix) exit = Math.max(exit, await applyFindings(findings, options, policy, io, clients));
  return exit;
}
