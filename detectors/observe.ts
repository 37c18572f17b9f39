import type { AwsClients } from '../core/aws';
import type { AnyDetector, Observation } from '../core/control';
import type { ControlId } from '../core/controls';
import type { ResourceRef } from '../core/finding';
import type { Policy } from '../core/policy';

/**
 * The live state of a resource, as every online path judges it (detector Lambda, sweep,
 * remediation): read, then settled with AWS where `evaluate` cannot tell alone (a KMS alias
 * against a key ARN).
 */
export async function observeLive(
  detector: AnyDetector,
  ref: ResourceRef,
  policy: Policy,
  clients: AwsClients,
): Promise<Observation<unknown>> {
  const observation = await detector.readState(ref, clients);
  const controlPolicy = policy.controls[detector.id as ControlId];
  if (observation.status !== 'known' || !detector.resolveState || !controlPolicy) return observation;
  return { ...observation, state: await detector.resolveState(observation.state, controlPolicy, ref, clients) };
}
