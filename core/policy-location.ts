/**
 * Which policy file a command reads: one resolution order for every CLI command and the CDK
 * app, so `cdk deploy` and `rampart scan --fix` never judge against different files.
 * `--config` (or `-c config=` for the CDK app), then `RAMPART_CONFIG`, then
 * `./rampart.config.yaml`; the bundled example only where the caller allows it (offline replay
 * of the bundled incident). Pure: the caller passes what exists.
 */

export const POLICY_FILE_NAME = 'rampart.config.yaml';

export const POLICY_SOURCES = ['--config', 'RAMPART_CONFIG', `./${POLICY_FILE_NAME}`, 'bundled example'] as const;
export type PolicySource = (typeof POLICY_SOURCES)[number];

export interface PolicyLocation {
  file: string;
  source: PolicySource;
}

export interface PolicyLookup {
  /** The explicit choice: `--config` of the CLI, `-c config=` of the CDK app. */
  flag?: string;
  /** `RAMPART_CONFIG` of the environment. */
  env?: string;
  /** `rampart.config.yaml` in the working directory, resolved by the caller. */
  local: string;
  /** Whether a file exists (the caller's file system). */
  exists: (file: string) => boolean;
  /** The bundled example, when this command may fall back to it. */
  bundled?: string;
}

/**
 * The policy file to read, and why it is that one; `undefined` when there is none to read.
 * An explicit `--config` or `RAMPART_CONFIG` is returned even when missing, so the reader
 * reports that file rather than quietly taking another.
 *
 * @example resolvePolicyLocation({ env: 'prod.yaml', local: '/w/rampart.config.yaml', exists: () => true }) // { file: 'prod.yaml', source: 'RAMPART_CONFIG' }
 */
export function resolvePolicyLocation(lookup: PolicyLookup): PolicyLocation | undefined {
  if (lookup.flag) return { file: lookup.flag, source: '--config' };
  if (lookup.env) return { file: lookup.env, source: 'RAMPART_CONFIG' };
  if (lookup.exists(lookup.local)) return { file: lookup.local, source: `./${POLICY_FILE_NAME}` };
  if (lookup.bundled) return { file: lookup.bundled, source: 'bundled example' };
  return undefined;
}

/** What a command prints on stderr before it starts: which policy it judges against. */
export function policyNotice(location: PolicyLocation): string {
  switch (location.source) {
    case 'bundled example':
      return `policy: ${location.file} (the bundled example: pass --config or create ./${POLICY_FILE_NAME} for yours)`;
    case `./${POLICY_FILE_NAME}`:
      return `policy: ./${POLICY_FILE_NAME}`;
    default:
      return `policy: ${location.file} (${location.source})`;
  }
}

/** The sentence for a command that found no policy to read. */
export const NO_POLICY_MESSAGE = `no policy: pass --config <file>, set RAMPART_CONFIG, or create ./${POLICY_FILE_NAME} (rampart init writes a starter)`;
