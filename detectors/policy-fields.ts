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
