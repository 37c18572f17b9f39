import type { KeyMetadata } from '@aws-sdk/client-kms';
import * as z from 'zod/mini';
import type { AwsClients } from '../core/aws';
import { lazySchema, type Detector, type Observation, type Permission } from '../core/control';
import type { RampartEvent } from '../core/events';
import type { Evaluation } from '../core/finding';
import { defineKind, type ResourceRef } from '../core/resources';
import { awsErrorName } from './aws-errors';
import { configObservation, refFromConfigEvent } from './config-events';
import { asObject, type Json } from './json';
import { openStatements } from './kms-key-policy';
import { isAlias, kmsSdk, policyKeyArn } from './kms-keys';
import { riskSchema } from './policy-fields';

/** The control's slice of the policy (`controls.kms-key-protection`). */
export const keyPolicySchema = lazySchema(() => {
  return z.strictObject({
    /** Customer managed keys held to the policy: `*`, or key ARNs, key ids, alias names or alias ARNs. */
    keys: z._default(z.array(z.string().check(z.minLength(1))).check(z.minLength(1)), ['*']),
    /** Automatic rotation must be on (keys that support it: symmetric, KMS key material, not in a custom key store). */
    rotation: z._default(z.boolean(), true),
    /** The longest rotation period allowed (90 to 2560 days, EnableKeyRotation's range); unset: any. */
    rotationPeriodInDays: z.optional(z.number().check(z.int(), z.minimum(90), z.maximum(2560))),
    /** A key must be enabled (a disabled key is re-enabled only when Rampart last saw it enabled). */
    enabled: z._default(z.boolean(), true),
    /** The key policy must not allow `Principal: "*"` without a condition. */
    noPublicPolicy: z._default(z.boolean(), true),
    /** CancelKeyDeletion (with its EnableKey) and EnableKeyRotation; EnableKey alone and PutKeyPolicy are always high. */
    risk: riskSchema('low'),
  });
});

export type KeyProtectionPolicy = z.infer<ReturnType<typeof keyPolicySchema>>;

/** A KMS key: its ARN names its region and account. */
export interface KeyRef extends ResourceRef {
  type: 'AWS::KMS::Key';
  region: string;
  keyId: string;
  /** The account in the ARN. */
  owner: string;
}

export const kmsKey = defineKind<KeyRef, { keyId: string; owner: string }>({
  type: 'AWS::KMS::Key',
  configResourceType: 'AWS::KMS::Key',
  build: ({ keyId, owner }, { partition, region }) => `arn:${partition}:kms:${region ?? ''}:${owner}:key/${keyId}`,
  parse(parts) {
    const keyId = /^key\/([^/]+)$/.exec(parts.resource)?.[1];
    return parts.service === 'kms' && parts.region && parts.accountId && keyId
      ? { keyId, owner: parts.accountId, region: parts.region }
      : undefined;
  },
  nameOf: (ref) => ref.keyId,
  notFoundCodes: ['NotFoundException'],
  // Config's resourceId of a key is its key id; the item's ARN says the rest
});

/** What the control judges of a key; a field an event does not reveal is absent. */
export interface KeyProtectionState {
  /** `AWS`: an AWS managed key, out of scope. */
  keyManager?: string;
  /** `Enabled`, `Disabled`, `PendingDeletion`, ... (KeyMetadata KeyState). */
  keyState?: string;
  /** Whether the key can rotate automatically; `false` for asymmetric, HMAC, imported, custom-store keys and multi-Region replicas. */
  rotationSupported?: boolean;
  rotationEnabled?: boolean;
  rotationPeriodInDays?: number;
  /** The key policy's JSON text. */
  policy?: string;
  /** Online only: whether the policy's `keys` name this key through an alias (settled with KMS). */
  namedByAlias?: boolean;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** The key a record is about: the response's key ARN, the record's `resources`, else `keyId` in the record's region. */
export function keyRefOf(record: Json & { awsRegion?: string }, account: string | undefined): KeyRef | undefined {
  const fromArn = (arn: string | undefined) => (arn ? kmsKey.arn.parse(arn) : undefined);
  const response = asObject(record.responseElements);
  const resources = Array.isArray(record.resources) ? record.resources : [];
  const listed = resources.map((r) => str(asObject(r)?.ARN)).find((arn) => arn && fromArn(arn));
  const keyId = str(asObject(record.requestParameters)?.keyId);
  const ref = fromArn(str(response?.keyId)) ?? fromArn(listed) ?? fromArn(keyId);
  if (ref) return { ...ref, ...(account ? { account } : {}) };
  // a bare key id is the key of the record's account in its region; an alias only KMS resolves
  if (!keyId || isAlias(keyId) || keyId.startsWith('arn:') || !record.awsRegion || !account) return undefined;
  return kmsKey.ref({ keyId, owner: account }, { region: record.awsRegion, account });
}

function stateFromRecord(event: Extract<RampartEvent, { kind: 'cloudtrail' }>): Observation<KeyProtectionState> {
  const { eventName, requestParameters, responseElements } = event.record;
  switch (eventName) {
    case 'ScheduleKeyDeletion':
      return { status: 'known', state: { keyState: str(asObject(responseElements)?.keyState) ?? 'PendingDeletion' } };
    case 'DisableKey':
      return { status: 'known', state: { keyState: 'Disabled' } };
    case 'DisableKeyRotation':
      return { status: 'known', state: { rotationEnabled: false } };
    case 'PutKeyPolicy': {
      const policy = str(requestParameters?.policy);
      return policy ? { status: 'known', state: { policy } } : { status: 'unknown', reason: 'PutKeyPolicy record carries no policy' };
    }
    default:
      return { status: 'unknown', reason: `${eventName} does not reveal the key's state` };
  }
}

/** Does the policy name this key? `undecidable` when it names aliases only KMS can resolve. */
export function guards(ref: ResourceRef, state: KeyProtectionState, policy: KeyProtectionPolicy): boolean | 'undecidable' {
  const keyId = kmsKey.is(ref) ? ref.keyId : undefined;
  if (policy.keys.some((k) => k === '*' || k === ref.arn || (keyId !== undefined && k === keyId))) return true;
  if (state.namedByAlias !== undefined) return state.namedByAlias;
  return policy.keys.some(isAlias) ? 'undecidable' : false;
}

function desiredOf(policy: KeyProtectionPolicy): Json {
  return {
    keyState: policy.enabled ? 'Enabled' : 'not PendingDeletion',
    ...(policy.rotation ? { rotationEnabled: true } : {}),
    ...(policy.rotationPeriodInDays !== undefined ? { rotationPeriodInDays: `≤ ${policy.rotationPeriodInDays}` } : {}),
    ...(policy.noPublicPolicy ? { keyPolicy: 'no Principal "*" without a condition' } : {}),
  };
}

/**
 * Pure: the key judged against the policy. AWS managed keys and keys the policy does not name
 * are compliant; only what the state knows is judged, the rest makes the verdict `unknown`.
 *
 * @example evaluateKey({ keyState: 'PendingDeletion' }, policy, ref).status // 'violation'
 */
export function evaluateKey(state: KeyProtectionState, policy: KeyProtectionPolicy, ref: ResourceRef): Evaluation {
  if (state.keyManager === 'AWS') return { status: 'compliant' };
  const scope = guards(ref, state, policy);
  if (scope === false) return { status: 'compliant' };
  const problems: string[] = [];
  const unknown: string[] = [];
  if (state.keyState === undefined) unknown.push('key state');
  else if (state.keyState === 'PendingDeletion') problems.push('the key is scheduled for deletion');
  else if (policy.enabled && state.keyState === 'Disabled') problems.push('the key is disabled');
  // a key pending deletion is fixed first: its rotation and policy are judged once it is back
  if (state.keyState !== 'PendingDeletion') {
    if (policy.rotation && state.rotationSupported !== false) {
      if (state.rotationEnabled === undefined) unknown.push('rotation status');
      else if (!state.rotationEnabled) problems.push('automatic key rotation is off');
      else if (
        policy.rotationPeriodInDays !== undefined &&
        state.rotationPeriodInDays !== undefined &&
        state.rotationPeriodInDays > policy.rotationPeriodInDays
      )
        problems.push(`the key rotates every ${state.rotationPeriodInDays} days, policy requires at most ${policy.rotationPeriodInDays}`);
    }
    if (policy.noPublicPolicy) {
      if (state.policy === undefined) unknown.push('key policy');
      else {
        const open = openStatements(state.policy);
        if (open === undefined) unknown.push('key policy (not a policy document)');
        else if (open.length > 0) problems.push(`the key policy allows Principal "*" without a condition (${open.join(', ')})`);
      }
    }
  }
  if (problems.length > 0) {
    const { policy: text, namedByAlias: _alias, ...observed } = state;
    return {
      status: 'violation',
      observed: { ...observed, ...(text !== undefined ? { openStatements: openStatements(text) ?? [] } : {}) },
      desired: desiredOf(policy),
      reason: problems.join('; '),
    };
  }
  if (scope === 'undecidable')
    return { status: 'unknown', reason: 'the policy names keys by alias: only KMS can tell whether it names this key' };
  if (unknown.length > 0) return { status: 'unknown', reason: `the event does not reveal the key's ${unknown.join(', ')}` };
  return { status: 'compliant' };
}

/** Can KMS rotate this key automatically (EnableKeyRotation's limits)? */
export function rotationSupported(metadata: KeyMetadata): boolean {
  return (
    metadata.KeySpec === 'SYMMETRIC_DEFAULT' &&
    metadata.Origin === 'AWS_KMS' &&
    metadata.CustomKeyStoreId === undefined &&
    // a multi-Region replica rotates with its primary
    metadata.MultiRegionConfiguration?.MultiRegionKeyType !== 'REPLICA'
  );
}

// keys in the regions the guard acts in, of any account (a key policy may let the guard see another's)
const KEYS = 'arn:${Partition}:kms:${Region}:*:key/*';

const READS: readonly Permission[] = [
  { actions: ['kms:DescribeKey', 'kms:GetKeyRotationStatus', 'kms:GetKeyPolicy', 'kms:ListResourceTags'], resources: [KEYS] },
];

/** KMS's answer, or `undefined` when the key's state does not allow the call (a disabled key's rotation status). */
async function unlessInvalidState<T>(call: Promise<T>): Promise<T | undefined> {
  try {
    return await call;
  } catch (error) {
    if (awsErrorName(error) === 'KMSInvalidStateException') return undefined;
    throw error;
  }
}

async function readKey(ref: KeyRef, clients: AwsClients): Promise<Observation<KeyProtectionState>> {
  const sdk = kmsSdk();
  const client = clients.get(sdk.KMSClient, ref.region);
  let metadata: KeyMetadata | undefined;
  try {
    metadata = (await client.send(new sdk.DescribeKeyCommand({ KeyId: ref.arn }))).KeyMetadata;
  } catch (error) {
    // a key KMS no longer has was deleted at the end of its waiting period: nothing is left to fix
    if (kmsKey.notFoundCodes.includes(awsErrorName(error) ?? '')) return { status: 'gone', reason: 'KMS has no such key (deleted)' };
    throw error;
  }
  if (!metadata) return { status: 'unknown', reason: 'DescribeKey returned no key metadata' };
  if (metadata.KeyManager === 'AWS') return { status: 'known', state: { keyManager: 'AWS', keyState: metadata.KeyState }, tags: {} };
  const supported = rotationSupported(metadata);
  const pending = metadata.KeyState === 'PendingDeletion';
  const [rotation, keyPolicy, tags] = await Promise.all([
    supported && !pending ? unlessInvalidState(client.send(new sdk.GetKeyRotationStatusCommand({ KeyId: ref.arn }))) : undefined,
    unlessInvalidState(client.send(new sdk.GetKeyPolicyCommand({ KeyId: ref.arn, PolicyName: 'default' }))),
    unlessInvalidState(client.send(new sdk.ListResourceTagsCommand({ KeyId: ref.arn }))),
  ]);
  const state: KeyProtectionState = {
    keyManager: metadata.KeyManager,
    keyState: metadata.KeyState,
    rotationSupported: supported,
    ...(rotation?.KeyRotationEnabled !== undefined ? { rotationEnabled: rotation.KeyRotationEnabled } : {}),
    ...(rotation?.RotationPeriodInDays !== undefined ? { rotationPeriodInDays: rotation.RotationPeriodInDays } : {}),
    ...(keyPolicy?.Policy ? { policy: keyPolicy.Policy } : {}),
  };
  return { status: 'known', state, tags: Object.fromEntries((tags?.Tags ?? []).map((t) => [t.TagKey ?? '', t.TagValue ?? ''])) };
}

const EVENT_NAMES = ['ScheduleKeyDeletion', 'DisableKey', 'DisableKeyRotation', 'PutKeyPolicy'] as const;

export const kmsKeyProtection: Detector<KeyProtectionState, KeyProtectionPolicy, 'kms-key-protection'> = {
  id: 'kms-key-protection',
  title: 'Customer managed KMS keys are not pending deletion, stay enabled, rotate, and are not open to everyone',
  // a key deleted takes every piece of data encrypted under it
  severity: 'high',
  // Security Hub controls reference: KMS.3 "AWS KMS keys should not be deleted unintentionally",
  // KMS.4 "AWS KMS key rotation should be enabled", KMS.5 "KMS keys should not be publicly accessible"
  securityHubControls: ['KMS.3', 'KMS.4', 'KMS.5'],
  resources: [kmsKey],
  get policySchema() {
    return keyPolicySchema();
  },
  triggers: {
    cloudTrail: [{ source: 'aws.kms', eventSource: 'kms.amazonaws.com', eventNames: EVENT_NAMES }],
    configResourceTypes: ['AWS::KMS::Key'],
  },

  resourcesFrom(event: RampartEvent): ResourceRef[] {
    if (event.kind === 'cloudtrail') {
      if (event.record.eventSource !== 'kms.amazonaws.com') return [];
      const account = event.record.recipientAccountId ?? event.record.userIdentity?.accountId ?? undefined;
      const ref = keyRefOf(event.record as Json & { awsRegion: string }, account);
      return ref ? [ref] : [];
    }
    return refFromConfigEvent(event, kmsKey) ?? [];
  },

  stateFrom(event: RampartEvent): Observation<KeyProtectionState> {
    if (event.kind === 'cloudtrail') return stateFromRecord(event);
    const fromConfig = configObservation<KeyProtectionState>(event, 'key', (item) => {
      const config = asObject(item.configuration);
      if (!config) return { status: 'unknown', reason: 'Config item carries no configuration' };
      const rotation = item.supplementaryConfiguration?.KeyRotationStatus;
      // Config records neither the key policy nor the rotation period
      return {
        status: 'known',
        state: {
          ...(str(config.keyManager) ? { keyManager: str(config.keyManager) } : {}),
          ...(str(config.keyState) ? { keyState: str(config.keyState) } : {}),
          ...(typeof rotation === 'boolean' ? { rotationEnabled: rotation } : {}),
        },
      };
    });
    return fromConfig ?? { status: 'unknown', reason: 'event does not concern KMS keys' };
  },

  async readState(ref, clients) {
    if (!kmsKey.is(ref)) throw new TypeError(`not a KMS key: ${ref.arn}`);
    return readKey(ref, clients);
  },
  readPermissions: READS,

  /** Online: the policy's aliases resolved in the key's region (once per cold start), so scope is never `unknown`. */
  async resolveState(state, policy, ref, clients) {
    if (!kmsKey.is(ref) || policy.keys.some((k) => k === '*' || k === ref.arn || k === ref.keyId)) return state;
    const aliases = policy.keys.filter(isAlias);
    if (aliases.length === 0) return state;
    const arns = await Promise.all(aliases.map((alias) => policyKeyArn(clients, ref.region, alias)));
    return { ...state, namedByAlias: arns.includes(ref.arn) };
  },

  evaluate: (state, policy, ref) => evaluateKey(state, policy, ref),

  // ListKeys takes no resource type (Service Authorization Reference): `*` alone
  listPermissions: [{ actions: ['kms:ListKeys'], resources: ['*'] }],

  async *list(clients: AwsClients): AsyncIterable<ResourceRef> {
    const sdk = kmsSdk();
    for (const region of new Set([clients.region, ...clients.regions])) {
      for await (const page of sdk.paginateListKeys({ client: clients.get(sdk.KMSClient, region) }, {})) {
        for (const k of page.Keys ?? []) {
          const ref = k.KeyArn ? kmsKey.arn.parse(k.KeyArn) : undefined;
          if (ref) yield clients.account ? { ...ref, account: clients.account } : ref;
        }
      }
    }
  },
};
