import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { PolicyError, messageOf } from '../core/errors';
import { forTerminal } from '../core/neutralise';
import { type ParseOptions } from '../core/policy';
import type { Policy } from '../controls/policy';
import { NO_POLICY_MESSAGE, POLICY_FILE_NAME, policyNotice, resolvePolicyLocation } from '../core/policy-location';

const PACKAGE_ROOT = resolve(__dirname, '..');
/** The bundled example policy: read only to replay the bundled incident when the user has no policy. */
export const BUNDLED_POLICY = resolve(PACKAGE_ROOT, 'examples/rampart.config.yaml');
export const BUNDLED_INCIDENT = resolve(PACKAGE_ROOT, 'examples/incident');

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

let policyModule: typeof import('../controls/policy') | undefined;

/**
 * Loads the policy schema (zod and yaml: the larger part of the CLI's code) before a command
 * runs (`run` does, for every command), so that `--help` never loads it.
 */
export async function loadPolicySchema(): Promise<void> {
  policyModule ??= await import('../controls/policy');
}

/** Loads the policy, keeping only `controls` when given; reports a bad file on stderr and returns undefined. */
export function loadPolicy(
  file: string,
  controls: readonly string[] | undefined,
  io: CliIo,
  options: ParseOptions = {},
): Policy | undefined {
  try {
    if (!policyModule) throw new Error('the policy schema is not loaded (loadPolicySchema)');
    const policy = policyModule.loadPolicyFile(file, options);
    // the deployable reading refuses it; an offline replay or scan would just count events
    if (Object.keys(policy.controls).length === 0)
      write(io.stderr, `warning: ${file} enables no control: nothing is judged (validate-config and cdk deploy refuse it)`);
    if (controls?.length === 0)
      write(io.stderr, "warning: --control names no control (--control ''): every control the policy enables is judged");
    if (!controls || controls.length === 0) return policy;
    const notEnabled = controls.filter((id) => !(id in policy.controls));
    if (notEnabled.length > 0)
      write(
        io.stderr,
        `warning: ${file} does not enable ${notEnabled.join(', ')}: nothing is judged for ${notEnabled.length === 1 ? 'it' : 'them'}`,
      );
    const only = Object.fromEntries(Object.entries(policy.controls).filter(([id]) => controls.includes(id)));
    return { ...policy, controls: only };
  } catch (error) {
    write(io.stderr, error instanceof PolicyError ? error.message : `cannot load policy ${file}: ${messageOf(error)}`);
    return undefined;
  }
}

/**
 * The policy file of a command (core/policy-location.ts: `--config`, `RAMPART_CONFIG`,
 * `./rampart.config.yaml`, the bundled example where allowed), said on stderr; `undefined`
 * (said too) when there is none.
 */
export function policyFile(
  flag: string | undefined,
  io: CliIo,
  options: { bundled?: string; env?: NodeJS.ProcessEnv } = {},
): string | undefined {
  const location = resolvePolicyLocation({
    flag,
    env: (options.env ?? process.env).RAMPART_CONFIG || undefined,
    local: POLICY_FILE_NAME,
    exists: existsSync,
    bundled: options.bundled,
  });
  if (!location) {
    write(io.stderr, NO_POLICY_MESSAGE);
    return undefined;
  }
  write(io.stderr, policyNotice(location));
  return location.file;
}

/**
 * Writes text whose event-borne parts were already neutralised piece by piece (the findings
 * table), so that the colour codes Rampart adds itself survive.
 */
export function writeRendered(stream: NodeJS.WritableStream, text: string): void {
  stream.write(text.endsWith('\n') ? text : `${text}\n`);
}
