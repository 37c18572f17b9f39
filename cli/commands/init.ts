import { existsSync, writeFileSync } from 'node:fs';
import { z } from 'zod';
import { policySchema } from '../../controls/policy';
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
 * The starter: one control on that needs no ARN of yours (S3 default encryption, AES256 at
 * least, a low-risk fix); the others written out, commented, with what each needs.
 */
export const STARTER_POLICY = `# yaml-language-server: $schema=./${SCHEMA_FILE_NAME}
# Rampart policy: which controls are on and what they require. Every command reads this file
# (--config, then RAMPART_CONFIG, then ./${POLICY_FILE_NAME}), and so does cdk deploy.
# Check it with: npx rampart validate-config       Editor schema: npx rampart schema > ${SCHEMA_FILE_NAME}

mode: dry-run # dry-run: find and report only; enforce: also fix (start here, switch when the findings look right)
regions: [] # where API Gateway stages and usage plans are swept, e.g. [us-east-1, eu-west-1]; empty: the home region

notifications:
  emails: [] # e.g. [secops@example.com]: each address confirms its SNS subscription once

# approvals:                 # required as soon as a control has risk: high
#   approvers:
#     emails: [alice@example.com]
#     iamPrincipalArns: [arn:aws:iam::111122223333:role/SecOps]   # who may decide with rampart approvals

controls:
  s3-default-encryption:
    algorithm: AES256 # AES256 | aws:kms | aws:kms:dsse; a stronger one satisfies too
    risk: low # low: fixed automatically; high: a human approves each fix

  # apigateway-waf:            # every REST API stage carries a WAF web ACL
  #   defaultWebAclArn: arn:aws:wafv2:<region>:<account>:regional/webacl/<name>/<id>
  #   risk: low

  # apigateway-throttling:     # stage and usage-plan throttling at most these limits
  #   rateLimit: 1000
  #   burstLimit: 500
  #   risk: high               # tightening limits can reject live traffic: approvers needed (above)

  # cloudtrail-logging:        # trails keep logging, multi-region, with log file validation
  #   trails: ["*"]
  #   risk: low
`;

export function initCommand(file: string | undefined, options: { force?: boolean }, io: CliIo): number {
  const target = file ?? POLICY_FILE_NAME;
  if (existsSync(target) && !options.force) {
    write(io.stderr, `${target} exists: not overwritten (--force replaces it)`);
    return EXIT.usage;
  }
  try {
    writeFileSync(target, STARTER_POLICY);
  } catch (error) {
    write(io.stderr, `cannot write ${target}: ${messageOf(error)}`);
    return EXIT.usage;
  }
  write(
    io.stdout,
    `wrote ${target} (dry-run, S3 default encryption on). Next: edit it, npx rampart validate-config, npx rampart scan; npx rampart schema > ${SCHEMA_FILE_NAME} for editor checks`,
  );
  return EXIT.ok;
}

export function schemaCommand(io: CliIo): number {
  write(io.stdout, JSON.stringify(policyJsonSchema(), null, 2));
  return EXIT.ok;
}
