import type {
  PutConfigurationRecorderCommandInput,
  PutDeliveryChannelCommandInput,
  RecordingGroup,
  ResourceType,
  StartConfigurationRecorderCommandInput,
} from '@aws-sdk/client-config-service';
import type { Change, Plan, Remediator } from '../core/control';
import type { Finding } from '../core/finding';
import { partitionOf } from '../core/resources';
import {
  configRecorder,
  configRecording,
  configSdk,
  evaluateRecording,
  groupComplies,
  missingTypes,
  recordsAllSupported,
  type RecordingPolicy,
  type RecordingState,
} from '../detectors/config-recording';
import { sendChanges } from './send-change';

type Input = StartConfigurationRecorderCommandInput | PutConfigurationRecorderCommandInput | PutDeliveryChannelCommandInput;

function change(operation: string, region: string, account: string, input: Input, followUps?: Change[]): Change {
  return {
    service: 'config',
    operation,
    region,
    account,
    input: input as unknown as Record<string, unknown>,
    ...(followUps && followUps.length > 0 ? { followUps } : {}),
  };
}

/**
 * The recording group to write: the last known good one when it meets the policy, else the
 * current one widened by what the policy requires. Never narrower than the current group: a
 * type it records is kept (an exclusion only loses the types the policy needs).
 */
export function groupToWrite(current: RecordingGroup | undefined, policy: RecordingPolicy, lastKnownGood?: RecordingGroup): RecordingGroup {
  if (lastKnownGood && groupComplies(lastKnownGood, policy) && (!current || widens(lastKnownGood, current))) return lastKnownGood;
  const base = current ?? { allSupported: false, resourceTypes: [] };
  if (policy.allSupported && !recordsAllSupported(base)) {
    return {
      allSupported: true,
      includeGlobalResourceTypes: base.includeGlobalResourceTypes ?? false,
      recordingStrategy: { useOnly: 'ALL_SUPPORTED_RESOURCE_TYPES' },
    };
  }
  const needed = missingTypes(base, policy);
  if (base.recordingStrategy?.useOnly === 'EXCLUSION_BY_RESOURCE_TYPES') {
    const excluded = (base.exclusionByResourceTypes?.resourceTypes ?? []).filter((t) => !needed.includes(t));
    return { ...base, exclusionByResourceTypes: { resourceTypes: excluded } };
  }
  return {
    ...base,
    allSupported: false,
    resourceTypes: [...new Set([...(base.resourceTypes ?? []), ...needed])].sort() as ResourceType[],
    recordingStrategy: { useOnly: 'INCLUSION_BY_RESOURCE_TYPES' },
  };
}

/** Does `a` record at least every listed type `b` records (a restore point must not narrow the recorder)? */
function widens(a: RecordingGroup, b: RecordingGroup): boolean {
  if (recordsAllSupported(a)) return true;
  if (recordsAllSupported(b) || b.recordingStrategy?.useOnly === 'EXCLUSION_BY_RESOURCE_TYPES') return false;
  const listed = new Set(a.recordingStrategy?.useOnly === 'EXCLUSION_BY_RESOURCE_TYPES' ? [] : (a.resourceTypes ?? []));
  if (a.recordingStrategy?.useOnly === 'EXCLUSION_BY_RESOURCE_TYPES')
    return (b.resourceTypes ?? []).every((t) => !(a.exclusionByResourceTypes?.resourceTypes ?? []).includes(t));
  return (b.resourceTypes ?? []).every((t) => listed.has(t));
}

/** The policy's PutDeliveryChannel, when the policy says where a channel delivers. */
function channelChange(policy: RecordingPolicy, region: string, account: string): Change | undefined {
  const r = policy.recreate;
  if (!r) return undefined;
  return change('PutDeliveryChannel', region, account, {
    DeliveryChannel: {
      name: r.deliveryChannelName,
      s3BucketName: r.s3BucketName,
      ...(r.s3KeyPrefix ? { s3KeyPrefix: r.s3KeyPrefix } : {}),
    },
  });
}

/**
 * Pure: the fix of the region's recording, the most urgent first: a missing recorder (re-created
 * only when the policy names the role and the bucket), a missing delivery channel (likewise),
 * a stopped recorder (`StartConfigurationRecorder`), then the recording group
 * (`PutConfigurationRecorder` with the last known good group). Every call goes to the region.
 */
export function planRecording(finding: Finding, state: RecordingState, policy: RecordingPolicy, lastKnownGood?: RecordingState): Plan {
  if (evaluateRecording(state, policy).status === 'compliant')
    return { change: null, reason: 'Config recording already complies with the policy' };
  const ref = configRecorder.arn.parse(finding.resourceArn);
  if (!ref) return { change: null, reason: `${finding.resourceArn} is not a Config recorder ARN` };
  const { region, owner: account } = ref;
  const start = (name: string) => change('StartConfigurationRecorder', region, account, { ConfigurationRecorderName: name });
  if (state.missing) {
    const r = policy.recreate;
    if (!r) {
      return {
        change: null,
        reason:
          'the configuration recorder was deleted: re-creating it takes the role Config assumes and a bucket, which the ' +
          'policy does not name (controls.config-recording.recreate); re-create it and start it',
      };
    }
    const recorder: PutConfigurationRecorderCommandInput = {
      ConfigurationRecorder: {
        name: r.recorderName,
        roleARN: r.roleArn,
        recordingGroup: groupToWrite(undefined, policy, lastKnownGood?.recordingGroup),
        ...(lastKnownGood?.recordingMode ? { recordingMode: lastKnownGood.recordingMode } : {}),
      },
    };
    // only a channel known to be missing is written: PutDeliveryChannel would replace another's settings
    const channel = state.deliveryChannel === false ? [channelChange(policy, region, account)!] : [];
    return { change: change('PutConfigurationRecorder', region, account, recorder, [...channel, start(r.recorderName)]) };
  }
  if (policy.deliveryChannel && state.deliveryChannel === false) {
    const channel = channelChange(policy, region, account);
    if (!channel) {
      return {
        change: null,
        reason:
          'the region has no delivery channel: re-creating it takes a bucket, which the policy does not name ' +
          '(controls.config-recording.recreate); re-create it and start the recorder',
      };
    }
    return { change: state.recording === false && state.name ? { ...channel, followUps: [start(state.name)] } : channel };
  }
  if (state.recording === false) {
    if (!state.name) return { change: null, reason: 'the event does not name the stopped recorder' };
    return { change: start(state.name) };
  }
  if (state.recordingGroup && !groupComplies(state.recordingGroup, policy)) {
    if (!state.name || !state.roleArn) return { change: null, reason: "the event does not reveal the recorder's name and role" };
    const input: PutConfigurationRecorderCommandInput = {
      ConfigurationRecorder: {
        name: state.name,
        roleARN: state.roleArn,
        recordingGroup: groupToWrite(state.recordingGroup, policy, lastKnownGood?.recordingGroup),
        // PutConfigurationRecorder replaces the recorder: the recording mode is sent back as it was
        ...(state.recordingMode ? { recordingMode: state.recordingMode } : {}),
      },
    };
    return { change: change('PutConfigurationRecorder', region, account, input) };
  }
  return { change: null, reason: 'the event does not reveal what to restore' };
}

/** Does the re-read recording carry what the change wrote (other problems are each their own fix)? */
function carries(state: RecordingState, written: Change, policy: RecordingPolicy): boolean {
  if (state.missing) return false;
  const last = written.followUps?.at(-1) ?? written;
  if (last.operation === 'StartConfigurationRecorder') return state.recording === true;
  if (last.operation === 'PutDeliveryChannel') return state.deliveryChannel === true;
  return state.recordingGroup !== undefined && groupComplies(state.recordingGroup, policy);
}

// the recorders of the regions the guard acts in
const RECORDERS = 'arn:${Partition}:config:${Region}:*:configuration-recorder/*';

export const configRecordingRemediator: Remediator<RecordingState, RecordingPolicy, 'config-recording'> = {
  id: 'config-recording',
  defaultRisk: 'low',
  // starting a stopped recorder only makes it record again; rewriting or re-creating what it
  // records (and what it costs) is a human's call
  risk: (_finding, policy, planned) =>
    !planned || (planned.operation === 'StartConfigurationRecorder' && !planned.followUps) ? policy.risk : 'high',
  plan: planRecording,

  async apply(written, clients) {
    const sdk = configSdk();
    await sendChanges(sdk, sdk.ConfigServiceClient, written, clients, Object.keys(configRecordingRemediator.permissions));
  },

  async verify(ref, clients, policy, written) {
    const observation = await configRecording.readState(ref, clients);
    if (observation.status !== 'known')
      return { compliant: false, reason: observation.status === 'gone' ? observation.reason : 'state unreadable' };
    const evaluation = evaluateRecording(observation.state, policy);
    if (evaluation.status === 'compliant' || carries(observation.state, written, policy))
      return { compliant: true, state: observation.state };
    return {
      compliant: false,
      state: observation.state,
      reason: evaluation.status === 'violation' ? evaluation.reason : `${written.operation} does not read back`,
    };
  },

  targetOf: (written) =>
    configRecorder.arn.build({ owner: written.account ?? '' }, { partition: partitionOf(written.region), region: written.region }),

  permissions: {
    StartConfigurationRecorder: { actions: ['config:StartConfigurationRecorder'], resources: [RECORDERS] },
    // the recorder's role is passed to Config: iam:PassRole, on Config's service-linked role only
    // (a recorder with a role of its own needs that role's PassRole granted beside the guard)
    PutConfigurationRecorder: {
      actions: ['config:PutConfigurationRecorder', 'iam:PassRole'],
      resources: [RECORDERS, 'arn:${Partition}:iam::*:role/aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig'],
    },
    // delivery channels have no ARN: PutDeliveryChannel takes no resource type
    PutDeliveryChannel: { actions: ['config:PutDeliveryChannel'], resources: ['*'] },
  },
};
