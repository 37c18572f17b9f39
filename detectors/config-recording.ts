import type { ConfigurationRecorder, RecordingGroup, RecordingMode } from '@aws-sdk/client-config-service';
import * as z from 'zod/mini';
import type { AwsClients } from '../core/aws';
import { lazySchema, type AnyDetector, type Detector, type Observation, type Permission } from '../core/control';
import type { RampartEvent } from '../core/events';
import type { Evaluation } from '../core/finding';
import { defineKind, type ResourceRef } from '../core/resources';
import { lazyModule } from '../core/sdk';
import { awsErrorName } from './aws-errors';
import { asObject, type Json } from './json';
import { riskSchema } from './policy-fields';

// eslint-disable-next-line @typescript-eslint/no-require-imports
export const configSdk = lazyModule(() => require('@aws-sdk/client-config-service') as typeof import('@aws-sdk/client-config-service'));

export const recordingPolicySchema = lazySchema(() => {
  const resourceType = z
    .string()
    .check(z.regex(/^AWS::[A-Za-z0-9]+::[A-Za-z0-9]+$/, { message: 'expected a Config resource type such as AWS::S3::Bucket' }));

  /** What re-creating a deleted recorder or delivery channel takes: only the owner knows the role and the bucket. */
  const recreateSchema = z.strictObject({
    /** The role Config assumes (PutConfigurationRecorder `roleARN`). */
    roleArn: z.string().check(z.regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/, { message: 'expected an IAM role ARN' })),
    /** The bucket the delivery channel writes to (PutDeliveryChannel `s3BucketName`). */
    s3BucketName: z.string().check(z.minLength(3), z.maxLength(63)),
    s3KeyPrefix: z.optional(z.string().check(z.minLength(1))),
    /** Names of a re-created recorder and channel; Config names both `default` when not told. */
    recorderName: z._default(z.string().check(z.minLength(1), z.maxLength(256)), 'default'),
    deliveryChannelName: z._default(z.string().check(z.minLength(1), z.maxLength(256)), 'default'),
  });

  /** The control's slice of the policy (`controls.config-recording`). */
  return z.strictObject({
    /** `true`: the recorder must record all supported resource types (`allSupported`). */
    allSupported: z._default(z.boolean(), false),
    /**
     * Resource types the recorder must record. The Config resource types the enabled controls
     * trigger on are added when the policy is read (`completePolicy`): their Config events stop
     * when those types are not recorded.
     */
    resourceTypes: z._default(z.array(resourceType), []),
    /** A delivery channel must exist (without one, a recorder cannot record). */
    deliveryChannel: z._default(z.boolean(), true),
    /** Unset: a deleted recorder or channel is reported, not re-created. */
    recreate: z.optional(recreateSchema),
    /** StartConfigurationRecorder; restoring the recording group and re-creating are always high. */
    risk: riskSchema('low'),
  });
});

export type RecordingPolicy = z.infer<ReturnType<typeof recordingPolicySchema>>;

/**
 * The customer managed configuration recorder of an account and region. AWS allows one per
 * account and region, and CloudTrail records name it by name only (the ARN's id is Config's,
 * `configuration-recorder/<name>/<id>`) or not at all (DeleteDeliveryChannel names the channel):
 * the finding is the region's recorder, `arn:<partition>:config:<region>:<account>:configuration-recorder/*`
 * (the ARN pattern of every recorder there); the documented ARN of a recorder parses to it.
 */
export interface RecorderRef extends ResourceRef {
  type: 'AWS::Config::ConfigurationRecorder';
  region: string;
  /** The account in the ARN. */
  owner: string;
}

export const configRecorder = defineKind<RecorderRef, { owner: string }>({
  type: 'AWS::Config::ConfigurationRecorder',
  // not a configResourceType: a stopped recorder records nothing of itself, so the control rests on CloudTrail and the sweep
  build: ({ owner }, { partition, region }) => `arn:${partition}:config:${region ?? ''}:${owner}:configuration-recorder/*`,
  parse(parts) {
    const ok = parts.resource === 'configuration-recorder/*' || /^configuration-recorder\/[^/]+\/[^/]+$/.test(parts.resource);
    return parts.service === 'config' && ok && parts.region && parts.accountId
      ? { owner: parts.accountId, region: parts.region }
      : undefined;
  },
  nameOf: (ref) => `Config recorder of ${ref.owner} in ${ref.region}`,
  notFoundCodes: ['NoSuchConfigurationRecorderException'],
});

/** The region's recorder, seen from `account`. */
export function recorderRef(region: string, account: string): RecorderRef {
  return configRecorder.ref({ owner: account }, { region, account });
}

/** What the control judges of a region's recording; a field an event does not reveal is absent. */
export interface RecordingState {
  /** The region has no customer managed recorder (deleted, or never made). */
  missing?: boolean;
  /** The recorder's name, when known. */
  name?: string;
  recording?: boolean;
  roleArn?: string;
  recordingGroup?: RecordingGroup;
  recordingMode?: RecordingMode;
  /** Whether the region has a delivery channel. */
  deliveryChannel?: boolean;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** The recording group of a PutConfigurationRecorder record: API member names, as the SDK's. */
function groupFrom(recorder: Json | undefined): RecordingGroup {
  const group = asObject(recorder?.recordingGroup);
  // "If ConfigurationRecorder does not have the recordingGroup parameter specified, the default
  // is to record all supported resource types" (PutConfigurationRecorder, Config API Reference)
  return group ? (group as RecordingGroup) : { allSupported: true };
}

function stateFromRecord(event: Extract<RampartEvent, { kind: 'cloudtrail' }>): Observation<RecordingState> {
  const { eventName, requestParameters: params } = event.record;
  const name = str(params?.configurationRecorderName);
  switch (eventName) {
    case 'StopConfigurationRecorder':
      return { status: 'known', state: { recording: false, ...(name ? { name } : {}) } };
    case 'DeleteConfigurationRecorder':
      return { status: 'known', state: { missing: true, ...(name ? { name } : {}) } };
    case 'DeleteDeliveryChannel':
      // "Before you can delete the delivery channel, you must stop the customer managed
      // configuration recorder" (DeleteDeliveryChannel, Config API Reference)
      return { status: 'known', state: { deliveryChannel: false, recording: false } };
    case 'PutConfigurationRecorder': {
      const recorder = asObject(params?.configurationRecorder);
      const recorderName = str(recorder?.name);
      const roleArn = str(recorder?.roleARN);
      const mode = asObject(recorder?.recordingMode);
      return {
        status: 'known',
        state: {
          ...(recorderName ? { name: recorderName } : {}),
          ...(roleArn ? { roleArn } : {}),
          recordingGroup: groupFrom(recorder),
          ...(mode ? { recordingMode: mode as unknown as RecordingMode } : {}),
        },
      };
    }
    default:
      return { status: 'unknown', reason: `${eventName} does not reveal the recorder's state` };
  }
}

/** Does the group record this resource type? */
export function records(group: RecordingGroup, type: string): boolean {
  const strategy = group.recordingStrategy?.useOnly;
  if (strategy === 'EXCLUSION_BY_RESOURCE_TYPES') return !(group.exclusionByResourceTypes?.resourceTypes ?? []).includes(type as never);
  if (group.allSupported === true || strategy === 'ALL_SUPPORTED_RESOURCE_TYPES') return true;
  return (group.resourceTypes ?? []).includes(type as never);
}

/** Does the group record every supported type (all of them, no exclusion)? */
export function recordsAllSupported(group: RecordingGroup): boolean {
  const strategy = group.recordingStrategy?.useOnly;
  if (strategy === 'EXCLUSION_BY_RESOURCE_TYPES') return (group.exclusionByResourceTypes?.resourceTypes ?? []).length === 0;
  return group.allSupported === true && (strategy === undefined || strategy === 'ALL_SUPPORTED_RESOURCE_TYPES');
}

/** The policy's types the group does not record (all of them at once when the policy wants all supported). */
export function missingTypes(group: RecordingGroup, policy: RecordingPolicy): string[] {
  return policy.resourceTypes.filter((t) => !records(group, t));
}

/** Does the group record what the policy requires? */
export function groupComplies(group: RecordingGroup, policy: RecordingPolicy): boolean {
  return (!policy.allSupported || recordsAllSupported(group)) && missingTypes(group, policy).length === 0;
}

function desiredOf(policy: RecordingPolicy): Json {
  return {
    recorder: 'exists',
    recording: true,
    ...(policy.allSupported ? { allSupported: true } : {}),
    ...(policy.resourceTypes.length > 0 ? { resourceTypes: policy.resourceTypes } : {}),
    ...(policy.deliveryChannel ? { deliveryChannel: true } : {}),
  };
}

/**
 * Pure: the region's recording judged against the policy. Only what the state knows is judged:
 * a known field that fails is a violation; one the event does not reveal makes the rest `unknown`.
 *
 * @example evaluateRecording({ recording: false }, policy).status // 'violation'
 */
export function evaluateRecording(state: RecordingState, policy: RecordingPolicy): Evaluation {
  const desired = desiredOf(policy);
  if (state.missing) {
    return {
      status: 'violation',
      observed: { recorder: 'missing', ...(state.deliveryChannel === false ? { deliveryChannel: false } : {}) },
      desired,
      reason: 'the region has no configuration recorder: Config records nothing here, and no control receives Config events',
    };
  }
  const problems: string[] = [];
  const unknown: string[] = [];
  if (state.recording === undefined) unknown.push('recording status');
  else if (!state.recording)
    problems.push('the configuration recorder is stopped: Config records nothing, and no control receives Config events');
  if (policy.deliveryChannel) {
    if (state.deliveryChannel === undefined) unknown.push('delivery channel');
    else if (!state.deliveryChannel) problems.push('the region has no delivery channel');
  }
  if (state.recordingGroup === undefined) unknown.push('recording group');
  else if (!groupComplies(state.recordingGroup, policy)) {
    const missing = missingTypes(state.recordingGroup, policy);
    problems.push(
      policy.allSupported && !recordsAllSupported(state.recordingGroup)
        ? 'the recorder does not record all supported resource types'
        : `the recorder does not record ${missing.join(', ')}`,
    );
  }
  const observed: Json = {
    ...(state.name ? { name: state.name } : {}),
    ...(state.recording !== undefined ? { recording: state.recording } : {}),
    ...(state.deliveryChannel !== undefined ? { deliveryChannel: state.deliveryChannel } : {}),
    ...(state.recordingGroup ? { recordingGroup: state.recordingGroup as unknown as Json } : {}),
  };
  if (problems.length > 0) return { status: 'violation', observed, desired, reason: problems.join('; ') };
  if (unknown.length > 0) return { status: 'unknown', reason: `the event does not reveal the ${unknown.join(', ')}` };
  return { status: 'compliant' };
}

/** The customer managed recorder of a DescribeConfigurationRecorders answer (service-linked ones are their services'). */
export function customerManaged(recorders: readonly ConfigurationRecorder[] | undefined): ConfigurationRecorder | undefined {
  return (recorders ?? []).find((r) => r.servicePrincipal === undefined && r.recordingScope !== 'INTERNAL');
}

// recorders live in every region swept; the account is the guard's own
const RECORDERS = 'arn:${Partition}:config:${Region}:*:configuration-recorder/*';

const READS: readonly Permission[] = [
  { actions: ['config:DescribeConfigurationRecorders', 'config:DescribeConfigurationRecorderStatus'], resources: [RECORDERS] },
  // delivery channels have no ARN: DescribeDeliveryChannels takes no resource type (Service Authorization Reference)
  { actions: ['config:DescribeDeliveryChannels'], resources: ['*'] },
];

/** The region's recording, read live: recorder, status and delivery channels. */
async function readRecording(ref: RecorderRef, clients: AwsClients): Promise<Observation<RecordingState>> {
  const sdk = configSdk();
  const client = clients.get(sdk.ConfigServiceClient, ref.region);
  const [{ ConfigurationRecorders: recorders }, { DeliveryChannels: channels }] = await Promise.all([
    client.send(new sdk.DescribeConfigurationRecordersCommand({})),
    client.send(new sdk.DescribeDeliveryChannelsCommand({})),
  ]);
  const deliveryChannel = (channels ?? []).length > 0;
  const recorder = customerManaged(recorders);
  if (!recorder?.name) return { status: 'known', state: { missing: true, deliveryChannel }, tags: {} };
  let recording: boolean;
  try {
    const status = await client.send(new sdk.DescribeConfigurationRecorderStatusCommand({ ConfigurationRecorderNames: [recorder.name] }));
    recording = status.ConfigurationRecordersStatus?.find((s) => s.name === recorder.name)?.recording === true;
  } catch (error) {
    // deleted between the two calls: the violation, not a resource gone quietly
    if (configRecorder.notFoundCodes.includes(awsErrorName(error) ?? ''))
      return { status: 'known', state: { missing: true, deliveryChannel }, tags: {} };
    throw error;
  }
  const state: RecordingState = {
    name: recorder.name,
    recording,
    deliveryChannel,
    ...(recorder.roleARN ? { roleArn: recorder.roleARN } : {}),
    // no recording group read back means Config's default: all supported types
    recordingGroup: recorder.recordingGroup ?? { allSupported: true },
    ...(recorder.recordingMode ? { recordingMode: recorder.recordingMode } : {}),
  };
  return { status: 'known', state, tags: {} };
}

/** The account an answer names: a recorder's ARN (newer API) or its role's. */
function accountOf(recorder: ConfigurationRecorder | undefined): string | undefined {
  return [recorder?.arn, recorder?.roleARN].map((arn) => arn?.split(':')[4]).find((a) => a && /^\d+$/.test(a));
}

/**
 * The Config resource types the other enabled controls trigger on: their Config events stop
 * when the recorder does not record those types.
 */
export function completeRecordingPolicy(policy: RecordingPolicy, enabled: readonly AnyDetector[]): RecordingPolicy {
  const types = new Set([...policy.resourceTypes, ...enabled.flatMap((d) => d.triggers.configResourceTypes)]);
  return { ...policy, resourceTypes: [...types].sort() };
}

const EVENT_NAMES = [
  'StopConfigurationRecorder',
  'DeleteConfigurationRecorder',
  'PutConfigurationRecorder',
  'DeleteDeliveryChannel',
] as const;

export const configRecording: Detector<RecordingState, RecordingPolicy, 'config-recording'> = {
  id: 'config-recording',
  title: 'AWS Config records, with a delivery channel, every resource type the enabled controls rely on',
  // AWS Config enabled (Security Hub checks the service-linked role too, which Rampart does not require)
  securityHubControls: ['Config.1'],
  // a stopped recorder silences the Config triggers of every other control
  severity: 'high',
  resources: [configRecorder],
  get policySchema() {
    return recordingPolicySchema();
  },
  triggers: {
    cloudTrail: [{ source: 'aws.config', eventSource: 'config.amazonaws.com', eventNames: EVENT_NAMES }],
    configResourceTypes: [],
  },

  resourcesFrom(event: RampartEvent): ResourceRef[] {
    if (event.kind !== 'cloudtrail' || event.record.eventSource !== 'config.amazonaws.com') return [];
    const { awsRegion, recipientAccountId, userIdentity } = event.record;
    const account = recipientAccountId ?? userIdentity?.accountId ?? undefined;
    return awsRegion && account ? [recorderRef(awsRegion, account)] : [];
  },

  stateFrom(event: RampartEvent): Observation<RecordingState> {
    if (event.kind === 'cloudtrail') return stateFromRecord(event);
    return { status: 'unknown', reason: 'event does not concern the Config recorder' };
  },

  async readState(ref, clients) {
    if (!configRecorder.is(ref)) throw new TypeError(`not a Config recorder: ${ref.arn}`);
    return readRecording(ref, clients);
  },
  readPermissions: READS,

  evaluate: (state, policy) => evaluateRecording(state, policy),
  completePolicy: completeRecordingPolicy,

  listPermissions: [{ actions: ['config:DescribeConfigurationRecorders'], resources: [RECORDERS] }],

  /** One recorder per region swept, whether or not it exists: a region without one is the violation. */
  async *list(clients: AwsClients): AsyncIterable<ResourceRef> {
    const sdk = configSdk();
    for (const region of new Set([clients.region, ...clients.regions])) {
      const out = await clients.get(sdk.ConfigServiceClient, region).send(new sdk.DescribeConfigurationRecordersCommand({}));
      const account = clients.account ?? accountOf(customerManaged(out.ConfigurationRecorders));
      if (account) yield recorderRef(region, account);
    }
  },
};
