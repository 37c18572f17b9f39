import * as z from 'zod/mini';
import { RISKS, type Risk } from '../core/controls';

/**
 * Fields many controls' policy schemas share, in zod/mini: the schemas are part of every
 * Lambda bundle (the registry holds them), and zod/mini keeps those small.
 */

/** `risk: low | high`: `high` sends the fix through a human approval first. */
export function riskSchema(defaultRisk: Risk) {
  return z._default(z.enum(RISKS), defaultRisk);
}

/** A REST API id, as API Gateway makes them (letters and digits: `a1b2c3d4e5`). */
export function restApiIdSchema() {
  return z.string().check(z.regex(/^[A-Za-z0-9]+$/, { message: 'expected a REST API id' }));
}
