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
import { DETECTORS } from '../../controls';

export interface ScanOptions extends AwsOptions, OutputOptions {
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
  const format = formatOf(options);
  // finding lines are kept in every format: --fix fixes them after the sweep
  const emit = (line: ReplayLine) => {
    if (format !== 'json' || line.type === 'finding') shown.push(line);
    return format === 'json' ? write(io.stdout, JSON.stringify(line)) : undefined;
  };
  let gate = false;
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
      await carryOutOffline(decide(item.judgement), {
        summary,
        emit: (line) => {
          if (line.type === 'finding') gate ||= failsGate([line], options.failOn);
          return emit(line);
        },
        policy,
        lastKnownGood,
        plan: true,
        seenAt: new Date(),
      });
    }
    bar.tick(summary);
  }
  bar.done(summary);
  const findings = shown.filter((l): l is FindingLine => l.type === 'finding');
  const totals = `${summary.resources} resource checks: ${summary.findings} violations, ${summary.compliant} compliant, ${summary.unknown} unknown, ${summary.exempt} exempt, ${summary.errors} unreadable (${sweepId})`;
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
        region: clients.region,
        account,
      });
      for (const warning of doc.warnings) write(io.stderr, `warning: ${warning}`);
      await write(io.stdout, doc.text);
      write(io.stderr, totals);
    }
  }
  let exit: number = summary.errors > 0 ? EXIT.badInput : EXIT.ok;
  if (options.fix) exit = Math.max(exit, await applyFindings(findings, { ...options, json: format === 'json' }, policy, io, clients));
  return exit !== EXIT.usage && gate ? FAIL_ON_EXIT : exit;
}
