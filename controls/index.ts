import { defineControl } from '../core/control';
import { apigatewayThrottling } from '../detectors/apigateway-throttling';
import { apigatewayWaf } from '../detectors/apigateway-waf';
import { s3DefaultEncryption } from '../detectors/s3-default-encryption';
import { apigatewayThrottlingRemediator } from '../remediators/apigateway-throttling';
import { apigatewayWafRemediator } from '../remediators/apigateway-waf';
import { s3DefaultEncryptionRemediator } from '../remediators/s3-default-encryption';

/**
 * THE registry: one line per control. Everything that needs the list of controls (control
 * ids, the policy schema, the EventBridge rules, IAM grants, the sweep, the CLI, the
 * conformance tests) reads it from here; nothing else lists control ids. The policy schema
 * assembled from it is in `./policy.ts`, apart: it needs zod and yaml, which the Lambdas
 * (they never validate the policy again) must not carry.
 */
export const CONTROLS = [
  defineControl(s3DefaultEncryption, s3DefaultEncryptionRemediator),
  defineControl(apigatewayWaf, apigatewayWafRemediator),
  defineControl(apigatewayThrottling, apigatewayThrottlingRemediator),
] as const;

export type AnyRegisteredControl = (typeof CONTROLS)[number];
/** Every control id, kebab-case and identical everywhere (policy key, finding, rule name). */
export type ControlId = AnyRegisteredControl['id'];
export const CONTROL_IDS: readonly ControlId[] = CONTROLS.map((c) => c.id);

/** The control of an id; `undefined` for an id no control has (input from outside). */
export function controlOf(id: string): AnyRegisteredControl | undefined {
  return CONTROLS.find((c) => c.id === id);
}

/** Every resource kind a control guards, once each. */
export const RESOURCE_KINDS = [...new Set(CONTROLS.flatMap((c) => c.resources))];
