import { stat } from 'node:fs/promises';
import { join, sep } from 'node:path';
import type { AwsClients } from '../../core/aws';
import { InMemoryLastKnownGood } from '../../core/last-known-good';
import { DETECTORS } from '../../controls';
import { EventRouter } from '../../detectors/router';
import { expandPaths } from '../event-input';
import { findingsTable, styleFor, wrap } from '../findings-table';
import { renderDocument } from '../formats';
import { EXIT, loadPolicy, policyFile, write, writeRendered, type CliIo } from '../io';
import { FAIL_ON_EXIT, failsGate, formatOf, type OutputOptions } from '../options';
import { summaryText } from '../render';
import { rampartVersion } from '../version';
import { replayJudged, type FindingLine, type ReplayLine } from '../replay';
import { judgeContext, judgeItems, type JudgeContext, type Judged } from '../replay-judge';
import { judgedFiles, threadsFor } from '../replay-pool';
import { isS3Path, timeRange, type TimeRange } from '../s3-logs';
import { accessProblem } from '../aws-access';
import type { AwsOptions } from './remediate';

export interface ReplayCommandOptions extends AwsOptions, OutputOptions {
  config?: string;
  control?: string[];
  plan?: boolean;
  apply?: boolean;
  includeHighRisk?: boolean;
  /** `s3://` paths: the first and last day of logs listed (cli/s3-logs.ts `parseWhen`). */
  since?: string;
  until?: string;
}

/** The judged items of every input, in the order given: runs of local paths, and `s3://` paths. */
async function* allInputs(
  paths: string[],
  ctx: JudgeContext,
  range: TimeRange,
  options: ReplayCommandOptions,
  io: CliIo,
): AsyncIterable<Judged[]> {
  for (let i = 0; i < paths.length;) {
    const s3 = isS3Path(paths[i]!);
    let end = i;
    while (end < paths.length && isS3Path(paths[end]!) === s3) end++;
    const run = paths.slice(i, end);
    if (s3) yield* (await import('../replay-s3')).judgedS3Paths(run, ctx, range, options, io);
    else yield* localInputs(run, ctx, io);
    i = end;
  }
}

async function* localInputs(paths: string[], ctx: JudgeContext, io: CliIo): AsyncIterable<Judged[]> {
  const { files, errors, skipped } = await expandPaths(paths);
  for (const dir of skipped) await write(io.stderr, `note: skipped ${dir} (dependencies and git internals hold no events)`);
  for (const dir of await directoriesWithoutEvents(paths, files))
    await write(io.stderr, `warning: ${dir} holds no event files (.json, .jsonl, .ndjson, .gz)`);
  yield judgeItems(errors, ctx);
  if (files.includes('-') && (io.stdin as { isTTY?: boolean }).isTTY)
    await write(io.stderr, 'reading events from stdin (paste or pipe them; end with Ctrl-D)…');
  const read = new Set<string>();
  for await (const batch of judgedFiles(files, ctx, io.stdin, threadsFor(files))) {
    for (const item of batch) read.add(item.file);
    yield batch;
  }
  for (const file of files) if (!read.has(file)) await write(io.stderr, `warning: ${file === '-' ? 'stdin' : file} holds no events`);
}

/** The directories given that hold no event file at all: said, since the replay would otherwise just count nothing. */
async function directoriesWithoutEvents(paths: readonly string[], files: readonly string[]): Promise<string[]> {
  const empty: string[] = [];
  for (const path of paths) {
    if (path === '-') continue;
    const info = await stat(path).catch(() => undefined);
    if (!info?.isDirectory()) continue;
    const prefix = join(path, sep);
    if (!files.some((f) => f.startsWith(prefix))) empty.push(path);
  }
  return empty;
}

export async function replayCommand(
  paths: string[],
  defaults: { incident: string; policy: string },
  options: ReplayCommandOptions,
  io: CliIo,
  clients?: AwsClients,
): Promise<number> {
  // the bundled example only judges the bundled incident
  const file = policyFile(options.config, io, paths.length === 0 ? { bundled: defaults.policy } : {});
  if (!file) return EXIT.usage;
  const policy = loadPolicy(file, options.control, io);
  if (!policy) return EXIT.usage;
  const inputs = paths.length > 0 ? paths : [defaults.incident];
  const range = timeRange(options, new Date());
  if (typeof range === 'string') {
    write(io.stderr, `rampart replay: ${range}`);
    return EXIT.usage;
  }
  if ((options.since !== undefined || options.until !== undefined) && !inputs.some(isS3Path))
    write(io.stderr, 'warning: --since and --until apply to s3:// paths; files and stdin are replayed whole');
  const plan = Boolean(options.plan || options.apply);
  const format = formatOf(options);
  const shown: ReplayLine[] = [];
  // one fix per resource: the live state is read anyway, the last event says enough
  const toFix = new Map<string, FindingLine>();
  let gate = false;
  const emit = (line: ReplayLine) => {
    if (line.type === 'finding') {
      if (options.apply) toFix.set(`${line.control} ${line.resourceArn}`, line);
      gate ||= failsGate([line], options.failOn);
    }
    if (format === 'json') return write(io.stdout, JSON.stringify(line));
    if (line.type === 'error') return write(io.stderr, `error: ${line.file} ${line.position}: ${line.message}`);
    // documents hold findings only; the table also shows unknowns and exemption changes
    if (format === 'table' || line.type === 'finding') shown.push(line);
    return undefined;
  };
  const ctx = judgeContext(policy, new EventRouter(DETECTORS));
  let summary;
  try {
    summary = await replayJudged(allInputs(inputs, ctx, range, options, io), policy, emit, {
      plan,
      lastKnownGood: plan ? new InMemoryLastKnownGood() : undefined,
    });
  } catch (error) {
    // no credentials or region for an s3:// path: one sentence, exit 2 (a bad object is only an error line)
    const problem = accessProblem(error);
    if (!problem) throw error;
    write(io.stderr, problem);
    return EXIT.usage;
  }
  if (format === 'json') await write(io.stdout, JSON.stringify(summary));
  else if (format === 'table') printTable(shown, { plan, wouldFix: !options.apply || policy.mode === 'dry-run' }, summary, io);
  else {
    const findings = shown.filter((l): l is FindingLine => l.type === 'finding');
    const doc = renderDocument(format, findings, { version: rampartVersion(), now: new Date(), policyFile: file, region: options.region });
    for (const warning of doc.warnings) write(io.stderr, `warning: ${warning}`);
    await write(io.stdout, doc.text);
    write(io.stderr, summaryText(summary));
  }
  let exit: number = summary.errors > 0 ? EXIT.badInput : EXIT.ok;
  if (options.apply) {
    // the SDK clients of a fix load only when one is applied
    const { applyFindings } = await import('./remediate');
    exit = Math.max(exit, await applyFindings([...toFix.values()], { ...options, json: format === 'json' }, policy, io, clients));
  }
  return exit !== EXIT.usage && gate ? FAIL_ON_EXIT : exit;
}

function printTable(
  shown: ReplayLine[],
  fix: { plan: boolean; wouldFix: boolean },
  summary: Parameters<typeof summaryText>[0],
  io: CliIo,
): void {
  const style = { ...styleFor(io.stdout), ...fix };
  const findings = shown.filter((l): l is FindingLine => l.type === 'finding');
  if (findings.length > 0) writeRendered(io.stdout, findingsTable(findings, style));
  const lines = (text: string) => wrap(text, style.width, 4, 2).join('\n');
  const unknown = shown.filter((l) => l.type === 'unknown');
  if (unknown.length > 0) {
    write(io.stdout, `\nNot enough state in the event to judge (the live guard reads it):`);
    for (const u of unknown) if (u.type === 'unknown') write(io.stdout, lines(`${u.control} ${u.resourceArn}: ${u.reason}`));
  }
  const exemptions = shown.filter((l) => l.type === 'exemption');
  if (exemptions.length > 0) {
    write(io.stdout, `\nExemption changes:`);
    for (const e of exemptions)
      if (e.type === 'exemption')
        write(
          io.stdout,
          lines(
            `${e.change} ${e.resourceArn} ${e.tagKey}${e.tagValue !== undefined ? `=${e.tagValue}` : ''} by ${e.actor?.arn ?? 'unknown'}: ${e.effect}`,
          ),
        );
  }
  write(
    io.stdout,
    `${findings.length > 0 || unknown.length > 0 || exemptions.length > 0 ? '\n' : ''}${wrap(summaryText(summary), style.width, 2, 0).join('\n')}`,
  );
}
