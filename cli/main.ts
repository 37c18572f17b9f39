import { resolve } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { CONTROL_IDS } from '../core/controls';
import { PolicyError, messageOf } from '../core/errors';
import { loadPolicyFile, type Policy } from '../core/policy';
import { DETECTORS } from '../detectors';
import { EventRouter } from '../detectors/router';
import { expandPaths, readInput, type InputItem } from './event-input';
import { findingRows, summaryText, table } from './render';
import { replayEvents, type ReplayLine } from './replay';

/** Where the CLI reads and writes; tests pass their own. */
export interface CliIo {
  stdout: Writable;
  stderr: Writable;
  stdin: Readable;
}

/** Exit codes: scripts depend on them. */
export const EXIT = { ok: 0, badInput: 1, usage: 2 } as const;

const PACKAGE_ROOT = resolve(__dirname, '..');
export const DEFAULT_POLICY = resolve(PACKAGE_ROOT, 'examples/rampart.config.yaml');
export const DEFAULT_INCIDENT = resolve(PACKAGE_ROOT, 'examples/incident');

/** Writes a line; the promise settles when the stream can take more (backpressure). */
function write(stream: Writable, text: string): Promise<void> | undefined {
  const ok = stream.write(text.endsWith('\n') ? text : `${text}\n`);
  return ok ? undefined : new Promise((resolve) => stream.once('drain', () => resolve()));
}

function loadPolicy(file: string, controls: readonly string[] | undefined, io: CliIo): Policy | undefined {
  try {
    const policy = loadPolicyFile(file);
    if (!controls) return policy;
    const only = Object.fromEntries(Object.entries(policy.controls).filter(([id]) => controls.includes(id)));
    return { ...policy, controls: only };
  } catch (error) {
    write(io.stderr, error instanceof PolicyError ? error.message : `cannot load policy ${file}: ${messageOf(error)}`);
    return undefined;
  }
}

async function* allInputs(paths: string[], io: CliIo): AsyncIterable<InputItem> {
  const { files, errors } = await expandPaths(paths);
  yield* errors;
  for (const file of files) yield* readInput(file, io.stdin);
}

async function replayCommand(paths: string[], options: { config: string; json?: boolean; control?: string[] }, io: CliIo): Promise<number> {
  const policy = loadPolicy(options.config, options.control, io);
  if (!policy) return EXIT.usage;
  const inputs = paths.length > 0 ? paths : [DEFAULT_INCIDENT];
  const router = new EventRouter(DETECTORS);
  const shown: ReplayLine[] = [];
  const emit = options.json
    ? (line: ReplayLine) => write(io.stdout, JSON.stringify(line))
    : (line: ReplayLine) => {
        if (line.type === 'error') return write(io.stderr, `error: ${line.file} ${line.position}: ${line.message}`);
        shown.push(line);
        return undefined;
      };
  const summary = await replayEvents(allInputs(inputs, io), policy, router, emit);
  if (options.json) {
    write(io.stdout, JSON.stringify(summary));
  } else {
    const rows = findingRows(shown);
    if (rows.length > 0) write(io.stdout, table(['CONTROL', 'RESOURCE', 'OBSERVED → DESIRED', 'ACTOR', 'TIME'], rows));
    const unknown = shown.filter((l) => l.type === 'unknown');
    if (unknown.length > 0) {
      write(io.stdout, `\nNot enough state in the event to judge (the live guard reads it):`);
      for (const u of unknown) if (u.type === 'unknown') write(io.stdout, `  ${u.control}  ${u.resourceArn}: ${u.reason}`);
    }
    write(io.stdout, `${rows.length > 0 || unknown.length > 0 ? '\n' : ''}${summaryText(summary)}`);
  }
  return summary.errors > 0 ? EXIT.badInput : EXIT.ok;
}

function validateCommand(file: string, io: CliIo): number {
  const policy = loadPolicy(file, undefined, io);
  if (!policy) return EXIT.usage;
  const enabled = Object.keys(policy.controls);
  write(io.stdout, `${file}: valid (mode ${policy.mode}; controls: ${enabled.length > 0 ? enabled.join(', ') : 'none enabled'})`);
  return EXIT.ok;
}

function collectControls(value: string, previous: string[] | undefined): string[] {
  const ids = value.split(',').map((v) => v.trim()).filter(Boolean);
  const bad = ids.filter((id) => !(CONTROL_IDS as readonly string[]).includes(id));
  if (bad.length > 0) throw new InvalidArgumentError(`unknown control ${bad.join(', ')}; known: ${CONTROL_IDS.join(', ')}`);
  return [...(previous ?? []), ...ids];
}

/**
 * Runs the `rampart` command line and returns its exit code.
 *
 * @example await run(['node', 'rampart', 'replay', '--json', 'events.ndjson'], { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin })
 */
export async function run(argv: string[], io: CliIo): Promise<number> {
  let exitCode: number = EXIT.ok;
  const program = new Command('rampart')
    .description('Continuous-remediation guard for AWS accounts')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .showHelpAfterError();

  program
    .command('replay')
    .description('replay CloudTrail/Config events or CloudTrail log files against a policy, offline, and show what the guard would do')
    .argument('[paths...]', 'event files, directories, CloudTrail log files (.json, .json.gz, NDJSON), or - for stdin', [])
    .option('-c, --config <file>', 'policy file (YAML or JSON)', DEFAULT_POLICY)
    .option('--json', 'print NDJSON lines (finding, unknown, error, then summary) for scripts')
    .option('--control <id>', `judge only this control (repeat, or separate with commas): ${CONTROL_IDS.join(', ')}`, collectControls)
    .action(async (paths: string[], options) => {
      exitCode = await replayCommand(paths, options, io);
    });

  program
    .command('validate-config')
    .description('check a policy file and report every bad field with its path')
    .argument('<file>', 'policy file (YAML or JSON)')
    .action((file: string) => {
      exitCode = validateCommand(file, io);
    });

  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    write(io.stderr, `rampart: ${messageOf(error)}`);
    return EXIT.usage;
  }
  return exitCode;
}
