import type { AwsClients } from '../../core/aws';
import { InMemoryLastKnownGood } from '../../core/last-known-good';
import { DETECTORS } from '../../controls';
import { EventRouter } from '../../detectors/router';
import { expandPaths, readInput, type InputItem } from '../event-input';
import { EXIT, loadPolicy, write, type CliIo } from '../io';
import { changeText, findingRows, summaryText, table } from '../render';
import { replayEvents, type FindingLine, type ReplayLine } from '../replay';
import { applyFindings, type AwsOptions } from './remediate';

export interface ReplayCommandOptions extends AwsOptions {
  config: string;
  json?: boolean;
  control?: string[];
  plan?: boolean;
  apply?: boolean;
  includeHighRisk?: boolean;
}

async function* allInputs(paths: string[], io: CliIo): AsyncIterable<InputItem> {
  const { files, errors, skipped } = await expandPaths(paths);
  for (const dir of skipped) await write(io.stderr, `note: skipped ${dir} (dependencies and git internals hold no events)`);
  yield* errors;
  for (const file of files) yield* readInput(file, io.stdin);
}

export async function replayCommand(
  paths: string[],
  defaults: { incident: string },
  options: ReplayCommandOptions,
  io: CliIo,
  clients?: AwsClients,
): Promise<number> {
  const policy = loadPolicy(options.config, options.control, io);
  if (!policy) return EXIT.usage;
  const inputs = paths.length > 0 ? paths : [defaults.incident];
  const plan = Boolean(options.plan || options.apply);
  const shown: ReplayLine[] = [];
  // one fix per resource: the live state is read anyway, the last event says enough
  const toFix = new Map<string, FindingLine>();
  const emit = (line: ReplayLine) => {
    if (line.type === 'finding' && options.apply) toFix.set(`${line.control} ${line.resourceArn}`, line);
    if (options.json) return write(io.stdout, JSON.stringify(line));
    if (line.type === 'error') return write(io.stderr, `error: ${line.file} ${line.position}: ${line.message}`);
    shown.push(line);
    return undefined;
  };
  const summary = await replayEvents(allInputs(inputs, io), policy, new EventRouter(DETECTORS), emit, {
    plan,
    lastKnownGood: plan ? new InMemoryLastKnownGood() : undefined,
  });
  if (options.json) await write(io.stdout, JSON.stringify(summary));
  else printTable(shown, plan, summary, io);
  let exit: number = summary.errors > 0 ? EXIT.badInput : EXIT.ok;
  if (options.apply) exit = Math.max(exit, await applyFindings([...toFix.values()], options, policy, io, clients));
  return exit;
}

function printTable(shown: ReplayLine[], plan: boolean, summary: Parameters<typeof summaryText>[0], io: CliIo): void {
  const findings = shown.filter((l): l is FindingLine => l.type === 'finding');
  if (findings.length > 0) write(io.stdout, table(['CONTROL', 'RESOURCE', 'OBSERVED → DESIRED', 'ACTOR', 'TIME'], findingRows(findings)));
  if (plan && findings.length > 0) {
    write(io.stdout, '\nPlanned changes:');
    for (const f of findings) write(io.stdout, `  ${f.control}  ${f.resourceArn}\n    ${changeText(f)}`);
  }
  const unknown = shown.filter((l) => l.type === 'unknown');
  if (unknown.length > 0) {
    write(io.stdout, `\nNot enough state in the event to judge (the live guard reads it):`);
    for (const u of unknown) if (u.type === 'unknown') write(io.stdout, `  ${u.control}  ${u.resourceArn}: ${u.reason}`);
  }
  const exemptions = shown.filter((l) => l.type === 'exemption');
  if (exemptions.length > 0) {
    write(io.stdout, `\nExemption changes:`);
    for (const e of exemptions)
      if (e.type === 'exemption')
        write(
          io.stdout,
          `  ${e.change}  ${e.resourceArn}  ${e.tagKey}${e.tagValue !== undefined ? `=${e.tagValue}` : ''} by ${e.actor?.arn ?? 'unknown'}: ${e.effect}`,
        );
  }
  write(io.stdout, `${findings.length > 0 || unknown.length > 0 || exemptions.length > 0 ? '\n' : ''}${summaryText(summary)}`);
}
