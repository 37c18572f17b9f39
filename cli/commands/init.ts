import { existsSync, writeFileSync } from 'node:fs';
import { z } from 'zod';
import { policySchema } from '../../controls/policy';
import { ALL_CONTROLS } from '../../controls';
import type { Control } from '../../core/control';
import { POLICY_FILE_NAME } from '../../core/policy-location';
import { messageOf } from '../../core/errors';
import { EXIT, write, type CliIo } from '../io';

/**
 * `rampart init` writes a commented starter policy; `rampart schema` prints the policy's JSON
 * Schema, generated from the zod schema the CLI and the synth validate with (so an editor
 * checks exactly what `validate-config` checks, cross-field rules aside).
 */

/** The JSON Schema of the policy file as written (defaults optional). */
export function policyJsonSchema(): Record<string, unknown> {
  return {
    // draft-07: what editors' YAML language servers read best
    ...z.toJSONSchema(policySchema(), { io: 'input', unrepresentable: 'any', target: 'draft-7' }),
    title: 'Rampart policy (rampart.config.yaml)',
  };
}

export const SCHEMA_FILE_NAME = 'rampart.schema.json';

/**
 * The starter: one control on (the first low-risk one whose required keys all have a first
 * choice, S3 default encryption today); every other control of the registry written out,
 * commented, with its title, its required keys and its default risk. Built from the registry:
 * a new control appears here without a line of this file.
 */
export function starterPolicy(controls: readonly Control[] = ALL_CONTROLS): string {
  const enabled = controls.find((c) => c.defaultRisk === 'low' && requiredKeys(c).every(([, value]) => value !== undefined));
  const entry = (c: Control, comment: string) => {
    const keys = requiredKeys(c).map(([key, value]) => `${comment}    ${key}: ${value ?? '…'}`);
    const risk = `${comment}    risk: ${c.defaultRisk}${c.defaultRisk === 'high' ? ' # a human approves each fix: approvers needed (above)' : ' # low: fixed automatically; high: a human approves each fix'}`;
    return [`${comment}  ${c.id}: # ${c.title}`, ...keys, risk].join('\n');
  };
  return `${STARTER_HEAD}
controls:
${[...(enabled ? [entry(enabled, '')] : []), ...controls.filter((c) => c !== enabled).map((c) => entry(c, '#'))].join('\n\n')}
`;
}

/** A control's required policy keys, each with its first choice when the key is a choice (an enum). */
function requiredKeys(control: Control): Array<[string, string | undefined]> {
  const shape = (control.policySchema as unknown as { shape?: Record<string, z.ZodType> }).shape ?? {};
  return Object.entries(shape)
    .filter(([, schema]) => !schema.safeParse(undefined).success)
    .map(([key, schema]) => {
      const options = (schema as unknown as { options?: unknown[] }).options;
      return [key, Array.isArray(options) && typeof options[0] === 'string' ? options[0] : undefined];
    });
}

const STARTER_HEAD = `# yaml-language-server: $schema=./${SCHEMA_FILE_NAME}
# Rampart policy: which controls are on and what they require. Every command reads this file
# (--config, then RAMPART_CONFIG, then ./${POLICY_FILE_NAME}), and so does cdk deploy.
# Check it with: npx rampart validate-config       Editor schema: npx rampart schema > ${SCHEMA_FILE_NAME}
# Each control's keys: README, "The controls"; uncomment a control to turn it on.

mode: dry-run # dry-run: find and report only; enforce: also fix (start here, switch when the findings look right)
regions: [] # where API Gateway stages and usage plans are swept, e.g. [us-east-1, eu-west-1]; empty: the home region

notifications:
  emails: [] # e.g. [secops@example.com]: each address confirms its SNS subscription once

# approvals:                 # required as soon as a control has risk: high
#   approvers:
#     emails: [alice@example.com]
#     iamPrincipalArns: [arn:aws:iam::111122223333:role/SecOps]   # who may decide with rampart approvals
`;

export function initCommand(file: string | undefined, options: { force?: boolean }, io: CliIo): number {
  const target = file ?? POLICY_FILE_NAME;
  if (existsSync(target) && !options.force) {
    write(io.stderr, `${target} exists: not overwritten (--force replaces it)`);
    return EXIT.usage;
  }
  try {
    writeFileSync(target, starterPolicy());
  } catch (error) {
    write(io.stderr, `cannot write ${target}: ${messageOf(error)}`);
    return EXIT.usage;
  }
  write(
    io.stdout,
    `wrote ${target} (dry-run, one control on). Next: edit it, npx rampart validate-config, npx rampart scan; npx rampart schema > ${SCHEMA_FILE_NAME} for editor checks`,
  );
  return EXIT.ok;
}

export function schemaCommand(io: CliIo): number {
  write(io.stdout, JSON.stringify(policyJsonSchema(), null, 2));
  return EXIT.ok;
}
