import type { Change, Plan, Remediator } from '../core/control';
import type { Finding } from '../core/finding';
import { openStatements } from '../detectors/kms-key-policy';
import { kmsSdk } from '../detectors/kms-keys';
import { evaluateKey, kmsKey, kmsKeyProtection, type KeyProtectionPolicy, type KeyProtectionState } from '../detectors/kms-key-protection';
import { sendChanges } from './send-change';

function change(operation: string, region: string, input: Record<string, unknown>, followUps?: Change[]): Change {
  return { service: 'kms', operation, region, input, ...(followUps ? { followUps } : {}) };
}

const isOpen = (policy: string | undefined) => policy !== undefined && (openStatements(policy)?.length ?? 0) > 0;

/**
 * Pure: the fix of the key, the most urgent first, every call naming the key by ARN in its
 * region. A key pending deletion: `CancelKeyDeletion`, then `EnableKey` (a cancelled key comes
 * back disabled; not when Rampart last saw it disabled). A disabled key: `EnableKey`, only
 * when Rampart last saw it enabled. Rotation off or too slow: `EnableKeyRotation` with the
 * policy's period. An open key policy: `PutKeyPolicy` with the last known good policy.
 */
export function planKey(
  finding: Finding,
  state: KeyProtectionState,
  policy: KeyProtectionPolicy,
  lastKnownGood?: KeyProtectionState,
): Plan {
  const ref = kmsKey.arn.parse(finding.resourceArn);
  if (!ref) return { change: null, reason: `${finding.resourceArn} is not a KMS key ARN` };
  if (evaluateKey(state, policy, ref).status === 'compliant') return { change: null, reason: 'the key already complies with the policy' };
  const KeyId = ref.arn;
  const enable = change('EnableKey', ref.region, { KeyId });
  if (state.keyState === 'PendingDeletion') {
    const wasDisabled = lastKnownGood?.keyState === 'Disabled';
    return { change: change('CancelKeyDeletion', ref.region, { KeyId }, policy.enabled && !wasDisabled ? [enable] : undefined) };
  }
  if (policy.enabled && state.keyState === 'Disabled') {
    if (lastKnownGood?.keyState !== 'Enabled')
      return {
        change: null,
        reason: 'the key is disabled and Rampart never saw it enabled: enable it, or take it out of the policy (keys, exemptions)',
      };
    return { change: enable };
  }
  const periodTooLong =
    policy.rotationPeriodInDays !== undefined &&
    state.rotationPeriodInDays !== undefined &&
    state.rotationPeriodInDays > policy.rotationPeriodInDays;
  if (
    policy.rotation &&
    state.rotationSupported !== false &&
    (state.rotationEnabled === false || (state.rotationEnabled && periodTooLong))
  ) {
    return {
      change: change('EnableKeyRotation', ref.region, {
        KeyId,
        ...(policy.rotationPeriodInDays !== undefined ? { RotationPeriodInDays: policy.rotationPeriodInDays } : {}),
      }),
    };
  }
  if (policy.noPublicPolicy && isOpen(state.policy)) {
    const restore = lastKnownGood?.policy;
    if (restore === undefined || isOpen(restore))
      return {
        change: null,
        reason: 'the key policy allows everyone and Rampart has no earlier policy of this key that does not: fix it by hand',
      };
    return { change: change('PutKeyPolicy', ref.region, { KeyId, PolicyName: 'default', Policy: restore }) };
  }
  return { change: null, reason: 'the event does not reveal what to restore' };
}

/** Does the re-read key carry what the change wrote (other problems are each their own fix)? */
function carries(state: KeyProtectionState, written: Change, policy: KeyProtectionPolicy): boolean {
  switch (written.operation) {
    case 'CancelKeyDeletion':
      return state.keyState !== 'PendingDeletion' && (written.followUps === undefined || state.keyState === 'Enabled');
    case 'EnableKey':
      return state.keyState === 'Enabled';
    case 'EnableKeyRotation':
      return (
        state.rotationEnabled === true &&
        (written.input.RotationPeriodInDays === undefined || state.rotationPeriodInDays === written.input.RotationPeriodInDays)
      );
    case 'PutKeyPolicy':
      return policy.noPublicPolicy ? state.policy !== undefined && !isOpen(state.policy) : state.policy === written.input.Policy;
    default:
      return false;
  }
}

// the keys of the regions the guard acts in
const KEYS = 'arn:${Partition}:kms:${Region}:*:key/*';

export const kmsKeyProtectionRemediator: Remediator<KeyProtectionState, KeyProtectionPolicy, 'kms-key-protection'> = {
  id: 'kms-key-protection',
  defaultRisk: 'low',
  // cancelling a deletion (and enabling the key it leaves disabled) and turning rotation on
  // only undo a loss; enabling a key on its own or rewriting its policy is a human's call
  risk: (_finding, policy, planned) =>
    planned?.operation === 'CancelKeyDeletion' || planned?.operation === 'EnableKeyRotation' ? policy.risk : 'high',
  plan: planKey,

  async apply(written, clients) {
    const sdk = kmsSdk();
    await sendChanges(sdk, sdk.KMSClient, written, clients, Object.keys(kmsKeyProtectionRemediator.permissions));
  },

  async verify(ref, clients, policy, written) {
    const observation = await kmsKeyProtection.readState(ref, clients);
    if (observation.status !== 'known') return { compliant: false, reason: observation.reason };
    const evaluation = evaluateKey(observation.state, policy, ref);
    if (evaluation.status === 'compliant' || carries(observation.state, written, policy))
      return { compliant: true, state: observation.state };
    return {
      compliant: false,
      state: observation.state,
      reason: evaluation.status === 'violation' ? evaluation.reason : `${written.operation} does not read back`,
    };
  },

  targetOf: (written) => String(written.input.KeyId),

  permissions: {
    CancelKeyDeletion: { actions: ['kms:CancelKeyDeletion'], resources: [KEYS] },
    EnableKey: { actions: ['kms:EnableKey'], resources: [KEYS] },
    EnableKeyRotation: { actions: ['kms:EnableKeyRotation'], resources: [KEYS] },
    PutKeyPolicy: { actions: ['kms:PutKeyPolicy'], resources: [KEYS] },
  },
};
