import type { z } from 'zod';
import {
  buildPolicySchema,
  deployable,
  loadPolicyFileWith,
  parsePolicyTextWith,
  parsePolicyWith,
  type ParseOptions,
  type PolicySchemas,
} from '../core/policy';
import { CONTROLS } from '.';

/**
 * The policy of the registered controls: its schema assembled from the registry, and the
 * parsers bound to it. Apart from `./index.ts`: it needs zod and yaml, which the Lambdas (they
 * never validate the policy again) must not carry.
 */

type Schema = ReturnType<typeof buildPolicySchema<typeof CONTROLS>>;
/** The validated policy: the guard's keys and each registered control's slice, typed. */
export type Policy = z.infer<Schema>;
/** The policy as written (defaults not applied yet). */
export type PolicyInput = z.input<Schema>;

let schemas: (PolicySchemas<Policy> & { schema: Schema }) | undefined;
function assembled() {
  if (!schemas) {
    const schema = buildPolicySchema(CONTROLS);
    schemas = { schema, plain: schema, deployable: deployable(schema) };
  }
  return schemas;
}

/** The policy schema of the registered controls (built on first use); `z.toJSONSchema` documents the file. */
export function policySchema(): Schema {
  return assembled().schema;
}

/** Validates a parsed policy object; throws `PolicyError` listing every bad field. */
export function parsePolicy(
  value: unknown,
  source?: string,
  locate?: (path: PropertyKey[]) => string | undefined,
  options?: ParseOptions,
): Policy {
  return parsePolicyWith(assembled(), value, source, locate, options);
}

/**
 * Parses policy text, YAML or JSON, with the line of each problem.
 *
 * @example parsePolicyText('controls:\n  apigateway-throttling: { rateLimit: 100, burstLimit: 50 }\n')
 */
export function parsePolicyText(text: string, source?: string, options?: ParseOptions): Policy {
  return parsePolicyTextWith(assembled(), text, source, options);
}

/** Reads and validates a policy file; a missing or unreadable file is a `PolicyError` too. */
export function loadPolicyFile(file: string, options?: ParseOptions): Policy {
  return loadPolicyFileWith(assembled(), file, options);
}
