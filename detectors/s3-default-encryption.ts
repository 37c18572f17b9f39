import type { ServerSideEncryptionRule } from '@aws-sdk/client-s3';
import * as z from 'zod/mini';
import type { AwsClients } from '../core/aws';
import { lazySchema, type Detector, type Observation } from '../core/control';
import type { RampartEvent } from '../core/events';
import type { Evaluation, ResourceRef } from '../core/finding';
import { awsErrorName } from './aws-errors';
import { configObservation } from './config-events';
import { compareKmsKeys, describeKeyArn, isAlias, policyKeyArn, sameKey } from './kms-keys';
import { asObject, type Json } from './json';
import { riskSchema } from './policy-fields';
import { BUCKET_LIST_PERMISSIONS, bucketClient, bucketsFrom, isBucketGone, listBuckets, readBucketTags, s3Sdk } from './s3-reads';
import { s3Bucket } from './s3-resources';

export { s3Sdk } from './s3-reads';

/** The control's slice of the policy (`controls.s3-default-encryption`). */
export const s3EncryptionPolicySchema = lazySchema(() => {
  return z
    .strictObject({
      algorithm: z.enum(['AES256', 'aws:kms', 'aws:kms:dsse']),
      /** Key ARN (preferred), key id, alias name or alias ARN. Only with aws:kms / aws:kms:dsse. */
      kmsKeyId: z.optional(z.string().check(z.minLength(1))),
      /** S3 Bucket Keys; only meaningful with KMS. Unset = not checked. */
      bucketKeyEnabled: z.optional(z.boolean()),
      /**
       * `true`: the bucket must use exactly `algorithm`. Unset or `false`: a stronger one satisfies
       * the policy too (AES256 < aws:kms < aws:kms:dsse), so a fix never downgrades a bucket.
       */
      exact: z.optional(z.boolean()),
      risk: riskSchema('low'),
    })
    .check(
      z.superRefine((value, ctx) => {
        if (value.algorithm === 'AES256' && value.kmsKeyId !== undefined) {
          ctx.addIssue({ code: 'custom', path: ['kmsKeyId'], message: 'kmsKeyId applies only with algorithm aws:kms or aws:kms:dsse' });
        }
        // S3 Bucket Keys exist for SSE-KMS only (not for SSE-S3, not for DSSE-KMS)
        if (value.algorithm !== 'aws:kms' && value.bucketKeyEnabled === true) {
          ctx.addIssue({ code: 'custom', path: ['bucketKeyEnabled'], message: 'S3 Bucket Keys apply only with algorithm aws:kms' });
        }
      }),
    );
});

export type S3EncryptionPolicy = z.infer<ReturnType<typeof s3EncryptionPolicySchema>>;

/** A bucket's default encryption: the first (and in practice only) rule of its configuration. */
export interface S3EncryptionState {
  /** `null`: no default encryption at all (only buckets untouched since before January 2023). */
  algorithm: string | null;
  kmsKeyId?: string;
  bucketKeyEnabled: boolean;
  /** Encryption types the bucket refuses (newer buckets block SSE-C); kept as they are by a fix. */
  blockedEncryptionTypes?: string[];
  /**
   * Online only: KMS said the bucket's key is not the key the policy's identifier names in the
   * bucket's region (`policyKeyArn` null: the policy's alias or key does not exist there).
   */
  kmsKeyMismatch?: { policyKeyArn: string | null; region: string };
}

// Since January 2023 S3 applies SSE-S3 to every bucket: a new bucket, and a bucket whose
// encryption configuration was deleted, are encrypted with AES256 and no bucket key.
const SSE_S3_BASELINE: S3EncryptionState = { algorithm: 'AES256', bucketKeyEnabled: false };

const first = (value: unknown): unknown => (Array.isArray(value) ? value[0] : value);

/** CloudTrail renders the XML body: `Rule` is an object for one rule, a list when the element repeats. */
function stateFromCloudTrailBody(config: Json | undefined): Observation<S3EncryptionState> {
  const rule = asObject(first(config?.Rule));
  const byDefault = asObject(rule?.ApplyServerSideEncryptionByDefault);
  const algorithm = byDefault?.SSEAlgorithm;
  if (typeof algorithm !== 'string') {
    return { status: 'unknown', reason: 'PutBucketEncryption record carries no ApplyServerSideEncryptionByDefault.SSEAlgorithm' };
  }
  const blocked = asObject(rule?.BlockedEncryptionTypes)?.EncryptionType;
  const blockedList = (Array.isArray(blocked) ? blocked : [blocked]).filter((t): t is string => typeof t === 'string');
  return {
    status: 'known',
    state: {
      algorithm,
      ...(typeof byDefault?.KMSMasterKeyID === 'string' ? { kmsKeyId: byDefault.KMSMasterKeyID } : {}),
      bucketKeyEnabled: rule?.BucketKeyEnabled === true || rule?.BucketKeyEnabled === 'true',
      ...(blockedList.length > 0 ? { blockedEncryptionTypes: blockedList } : {}),
    },
  };
}

/** Config renders the same configuration with lower-camel keys and a `rules` list. */
function stateFromConfigItem(supplementary: Json | undefined): Observation<S3EncryptionState> {
  const sse = asObject(supplementary?.ServerSideEncryptionConfiguration);
  if (!sse) {
    return { status: 'unknown', reason: 'Config item carries no ServerSideEncryptionConfiguration' };
  }
  const rule = asObject(first(sse.rules));
  const byDefault = asObject(rule?.applyServerSideEncryptionByDefault);
  if (!byDefault || typeof byDefault.sseAlgorithm !== 'string')
    return { status: 'known', state: { algorithm: null, bucketKeyEnabled: false } };
  return {
    status: 'known',
    state: {
      algorithm: byDefault.sseAlgorithm,
      ...(typeof byDefault.kmsMasterKeyID === 'string' ? { kmsKeyId: byDefault.kmsMasterKeyID } : {}),
      bucketKeyEnabled: rule?.bucketKeyEnabled === true,
    },
  };
}

/** The SDK's view of a rule, as GetBucketEncryption returns it. */
export function stateFromRule(rule: ServerSideEncryptionRule | undefined): S3EncryptionState {
  const byDefault = rule?.ApplyServerSideEncryptionByDefault;
  const blocked = rule?.BlockedEncryptionTypes?.EncryptionType;
  return {
    algorithm: byDefault?.SSEAlgorithm ?? null,
    ...(byDefault?.KMSMasterKeyID ? { kmsKeyId: byDefault.KMSMasterKeyID } : {}),
    bucketKeyEnabled: rule?.BucketKeyEnabled === true,
    ...(blocked && blocked.length > 0 ? { blockedEncryptionTypes: [...blocked] } : {}),
  };
}

function describe(state: S3EncryptionState): Json {
  return {
    algorithm: state.algorithm,
    ...(state.kmsKeyId !== undefined ? { kmsKeyId: state.kmsKeyId } : {}),
    bucketKeyEnabled: state.bucketKeyEnabled,
  };
}

function desiredOf(policy: S3EncryptionPolicy): Json {
  return {
    algorithm: policy.algorithm,
    ...(policy.exact ? { exact: true } : {}),
    ...(policy.kmsKeyId !== undefined ? { kmsKeyId: policy.kmsKeyId } : {}),
    ...(policy.bucketKeyEnabled !== undefined ? { bucketKeyEnabled: policy.bucketKeyEnabled } : {}),
  };
}

/** Default encryption algorithms from weakest to strongest: DSSE-KMS adds a second layer to SSE-KMS. */
const STRENGTH = ['AES256', 'aws:kms', 'aws:kms:dsse'] as const;

/** How strong an algorithm is (-1: none, or one this guard does not know, which satisfies nothing). */
export function strengthOf(algorithm: string | null): number {
  return algorithm === null ? -1 : STRENGTH.indexOf(algorithm as (typeof STRENGTH)[number]);
}

/** Does the bucket's algorithm satisfy the policy's: the same, or (unless `exact`) stronger? */
export function algorithmSatisfies(algorithm: string | null, policy: S3EncryptionPolicy): boolean {
  if (policy.exact) return algorithm === policy.algorithm;
  return strengthOf(algorithm) >= strengthOf(policy.algorithm);
}

/**
 * Pure: does the bucket's default encryption match the policy? The violation is "not the
 * required configuration", since every bucket has at least SSE-S3 nowadays.
 *
 * @example evaluateS3Encryption({ algorithm: 'AES256', bucketKeyEnabled: false }, { algorithm: 'aws:kms', risk: 'low' }).status // 'violation'
 */
export function evaluateS3Encryption(state: S3EncryptionState, policy: S3EncryptionPolicy): Evaluation {
  const observed = describe(state);
  const desired = desiredOf(policy);
  if (!algorithmSatisfies(state.algorithm, policy)) {
    const what = state.algorithm === null ? 'no default encryption' : `default encryption ${state.algorithm}`;
    return {
      status: 'violation',
      observed,
      desired,
      reason: `bucket has ${what}, policy requires ${policy.exact ? 'exactly ' : ''}${policy.algorithm}`,
    };
  }
  // a key requirement holds for a stronger KMS algorithm too (the schema allows no key with AES256)
  if (policy.kmsKeyId !== undefined) {
    if (state.kmsKeyId === undefined) {
      return {
        status: 'violation',
        observed,
        desired,
        reason: `bucket uses the AWS managed key aws/s3, policy requires ${policy.kmsKeyId}`,
      };
    }
    if (state.kmsKeyMismatch) {
      const { policyKeyArn, region } = state.kmsKeyMismatch;
      const named = policyKeyArn === null ? `which does not exist in ${region}` : `${policyKeyArn} in ${region}`;
      return {
        status: 'violation',
        observed,
        desired,
        reason: `bucket uses KMS key ${state.kmsKeyId}, policy requires ${policy.kmsKeyId} (${named})`,
      };
    }
    const keys = compareKmsKeys(state.kmsKeyId, policy.kmsKeyId);
    if (keys === 'different') {
      return {
        status: 'violation',
        observed,
        desired,
        reason: `bucket uses KMS key ${state.kmsKeyId}, policy requires ${policy.kmsKeyId}`,
      };
    }
    if (keys === 'undecidable') {
      return {
        status: 'unknown',
        reason: `whether ${state.kmsKeyId} and ${policy.kmsKeyId} name the same KMS key takes a KMS lookup`,
      };
    }
  }
  // S3 Bucket Keys exist for SSE-KMS only: a DSSE-KMS bucket is not held to them
  if (policy.bucketKeyEnabled !== undefined && state.algorithm === 'aws:kms' && state.bucketKeyEnabled !== policy.bucketKeyEnabled) {
    return {
      status: 'violation',
      observed,
      desired,
      reason: `S3 Bucket Key is ${state.bucketKeyEnabled ? 'enabled' : 'disabled'}, policy requires it ${policy.bucketKeyEnabled ? 'enabled' : 'disabled'}`,
    };
  }
  return { status: 'compliant' };
}

const EVENT_NAMES = ['PutBucketEncryption', 'DeleteBucketEncryption', 'CreateBucket'] as const;

export const s3DefaultEncryption: Detector<S3EncryptionState, S3EncryptionPolicy, 's3-default-encryption'> = {
  id: 's3-default-encryption',
  title: 'S3 buckets have the required default encryption',
  // S3.17 (KMS keys at rest) is what Security Hub still judges: S3.4 (any server-side encryption) was retired
  securityHubControls: ['S3.17'],
  severity: 'medium',
  resources: [s3Bucket],
  get policySchema() {
    return s3EncryptionPolicySchema();
  },
  triggers: {
    cloudTrail: [{ source: 'aws.s3', eventSource: 's3.amazonaws.com', eventNames: EVENT_NAMES }],
    configResourceTypes: ['AWS::S3::Bucket'],
  },

  resourcesFrom: bucketsFrom,

  stateFrom(event: RampartEvent): Observation<S3EncryptionState> {
    if (event.kind === 'cloudtrail') {
      const name = event.record.eventName;
      if (name === 'CreateBucket' || name === 'DeleteBucketEncryption') return { status: 'known', state: SSE_S3_BASELINE };
      if (name === 'PutBucketEncryption')
        return stateFromCloudTrailBody(asObject(event.record.requestParameters?.ServerSideEncryptionConfiguration));
      return { status: 'unknown', reason: `${name} does not reveal the bucket's encryption` };
    }
    const fromConfig = configObservation(event, 'bucket', (item) => stateFromConfigItem(asObject(item.supplementaryConfiguration)));
    return fromConfig ?? { status: 'unknown', reason: 'event does not concern S3 buckets' };
  },

  async readState(ref: ResourceRef, clients: AwsClients): Promise<Observation<S3EncryptionState>> {
    if (!s3Bucket.is(ref)) throw new TypeError(`not a bucket: ${ref.arn}`);
    const { s3, owner } = bucketClient(ref, clients);
    // both reads at once: a resource costs one round trip, not two (the sweep's latency limit)
    const [encryption, tags] = await Promise.allSettled([
      s3.send(new (s3Sdk().GetBucketEncryptionCommand)({ Bucket: ref.bucket, ...owner })),
      readBucketTags(ref, clients),
    ]);
    let state: S3EncryptionState;
    if (encryption.status === 'fulfilled') state = stateFromRule(encryption.value.ServerSideEncryptionConfiguration?.Rules?.[0]);
    else if (isBucketGone(encryption.reason)) return { status: 'gone', reason: `bucket ${ref.bucket} does not exist` };
    // buckets not touched since before 2023 may still have no default encryption
    else if (awsErrorName(encryption.reason) === 'ServerSideEncryptionConfigurationNotFoundError')
      state = { algorithm: null, bucketKeyEnabled: false };
    else throw encryption.reason;
    if (tags.status === 'rejected') {
      if (isBucketGone(tags.reason)) return { status: 'gone', reason: `bucket ${ref.bucket} does not exist` };
      throw tags.reason;
    }
    return { status: 'known', state, tags: tags.value };
  },

  /** What `readState` (and `resolveState`) call: the detector, the sweep and remediation are granted these. */
  readPermissions: [
    { actions: ['s3:GetEncryptionConfiguration', 's3:GetBucketTagging'], resources: ['arn:${Partition}:s3:::*'] },
    // resolving a policy alias against the bucket's key ARN
    { actions: ['kms:DescribeKey'], resources: ['arn:${Partition}:kms:*:*:key/*', 'arn:${Partition}:kms:*:*:alias/*'] },
  ],

  async resolveState(state, policy, ref, clients) {
    if (!state.kmsKeyId || !policy.kmsKeyId) return state;
    const offline = compareKmsKeys(state.kmsKeyId, policy.kmsKeyId);
    // two key identifiers are settled offline; two different alias names may still name one key
    if (offline === 'same' || (!isAlias(state.kmsKeyId) && !isAlias(policy.kmsKeyId))) return state;
    // both identifiers resolve in the bucket's region, where the bucket's key must live
    const region = ref.region ?? clients.region;
    const [observed, desired] = await Promise.all([
      isAlias(state.kmsKeyId) ? describeKeyArn(clients, region, state.kmsKeyId) : Promise.resolve(state.kmsKeyId),
      policyKeyArn(clients, region, policy.kmsKeyId),
    ]);
    if (observed !== null && desired !== null && sameKey(observed, desired)) return { ...state, kmsKeyId: policy.kmsKeyId };
    return { ...state, kmsKeyMismatch: { policyKeyArn: desired, region } };
  },

  evaluate: (state, policy) => evaluateS3Encryption(state, policy),

  listPermissions: BUCKET_LIST_PERMISSIONS,
  list: listBuckets,
};
