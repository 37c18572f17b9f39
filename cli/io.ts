import type { Readable, Writable } from 'node:stream';
import { PolicyError, messageOf } from '../core/errors';
import { forTerminal } from '../core/neutralise';
import { type ParseOptions } from '../core/policy';
import { loadPolicyFile, type Policy } from '../controls/policy';

/** Where the CLI reads and writes; tests pass their own. */
export interface CliIo {
  stdout: Writable;
  stderr: Writable;
  stdin: Readable;
}

/** Exit codes: scripts depend on them. */
export const EXIT = { ok: 0, badInput: 1, notCompliant: 1, usage: 2 } as const;

/**
 * Writes a line; the promise settles when the stream can take more (backpressure). Every line
 * goes through the terminal neutraliser: resource names and actors come from events, and an
 * escape sequence in one must not reach the terminal. In `--json` output the replacement
 * (`\u001b`) is the JSON escape of the same character, so the parsed line does not change.
 */
export function write(stream: NodeJS.WritableStream, text: string): Promise<void> | undefined {
  const line = forTerminal(text);
  const ok = stream.write(line.endsWith('\n') ? line : `${line}\n`);
  return ok ? undefined : new Promise((resolve) => stream.once('drain', () => resolve()));
}

/** Loads the policy, keeping only `controls` when given; reports a bad file on stderr and returns undefined. */
export function loadPolicy(
  file: string,
  controls: readonly string[] | undefined,
  io: CliIo,
  options: ParseOptions = {},
): Policy | undefined {
  try {
    const policy = loadPolicyFile(file, options);
    if (!controls) return policy;
    const only = Object.fromEntries(Object.entries(policy.controls).filter(([id]) => controls.includes(id)));
    return { ...policy, controls: only };
  } catch (error) {
    write(io.stderr, error instanceof PolicyError ? error.message : `cannot load policy ${file}: ${messageOf(error)}`);
    return undefined;
  }
}
