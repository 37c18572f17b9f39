import type { AnyRemediator } from '../core/control';
import type { ControlId } from '../core/controls';
import { apigatewayThrottlingRemediator } from './apigateway-throttling';
import { apigatewayWafRemediator } from './apigateway-waf';
import { s3DefaultEncryptionRemediator } from './s3-default-encryption';

/** Every remediator, one per control. Infra grants exactly their `permissions`. */
export const REMEDIATORS: readonly AnyRemediator[] = [s3DefaultEncryptionRemediator, apigatewayWafRemediator, apigatewayThrottlingRemediator];

export function remediatorFor(id: ControlId): AnyRemediator {
  const remediator = REMEDIATORS.find((r) => r.id === id);
  if (!remediator) throw new Error(`no remediator registered for control ${id}`);
  return remediator;
}

export { apigatewayThrottlingRemediator, apigatewayWafRemediator, s3DefaultEncryptionRemediator };
