import type { AnyDetector } from '../core/control';
import type { ControlId } from '../core/controls';
import { apigatewayThrottling } from './apigateway-throttling';
import { apigatewayWaf } from './apigateway-waf';
import { withTagEvents } from './exemption-events';
import { s3DefaultEncryption } from './s3-default-encryption';

/** Every detector, one per control. Infra builds rules and grants from this list; the CLI routes with it. */
// every control also reacts to tag changes of its resources (exemptions): `withTagEvents`
export const DETECTORS: readonly AnyDetector[] = [s3DefaultEncryption, apigatewayWaf, apigatewayThrottling].map(withTagEvents);

export function detectorFor(id: ControlId): AnyDetector {
  const detector = DETECTORS.find((d) => d.id === id);
  if (!detector) throw new Error(`no detector registered for control ${id}`);
  return detector;
}

export { apigatewayThrottling, apigatewayWaf, s3DefaultEncryption };
