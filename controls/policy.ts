import { buildPolicySchema } from '../core/policy';
import { CONTROLS } from '.';

let assembled: ReturnType<typeof buildPolicySchema<typeof CONTROLS>> | undefined;

/** The policy schema of the registered controls (built on first use); `z.toJSONSchema` documents the file. */
export function policySchema() {
  return (assembled ??= buildPolicySchema(CONTROLS));
}
