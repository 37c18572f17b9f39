import * as z from 'zod/mini';
import type { AwsClients } from '../core/aws';
import { lazySchema, type Detector, type Observation } from '../core/control';
import type { RampartEvent } from '../core/events';
import type { Evaluation, ResourceRef } from '../core/finding';
import { awsErrorName } from './aws-errors';
import { configObservation } from './config-events';
import { asObject, type Json } from './json';
import { riskSchema } from './policy-fields';
import { parseBucketPolicy, tlsDenyCoverage } from './s3-bucket-policy';
import { BUCKET_LIST_PERMISSIONS, bucketClient, bucketsFrom, isBucketGone, listBuckets, readBucketTags, s3Sdk } from './s3-reads';
import { s3Bucket } from './s3-resources';

/** The control's slice of the policy (`controls.s3-tls-only`). */
export const tlsOnlyPolicySchema = lazySchema(() => {
  return z.strictObject({
    risk: riskSchema('low'),
  });
});

export type TlsOnlyPolicy = z.infer<ReturnType<typeof tlsOnlyPolicySchema>>;

/** What the control judges of a bucket: its policy, and (online) whether it serves a website. */
export interface TlsOnlyState {
  /** The bucket policy as S3 holds it (JSON text); `null`: the bucket has no policy. */
  policy: string | null;
  /**
   * Online only: the bucket has a static website configuration. S3 website endpoints speak
   * HTTP only, so denying requests without TLS takes such a site down: its fix asks a human.
   */
  website?: boolean;
}

/**
 * Pure: does the bucket policy deny requests without TLS on the bucket and on its objects?
 * Only statements that deny every S3 action to everyone on `aws:SecureTransport` false, with
 * no other condition, count (see `isTlsDeny`); several may share the two resources.
 *
 * @example evaluateTlsOnly({ policy: null }, { risk: 'low' }, bucketRef('logs')).status // 'violation'
 */
export function evaluateTlsOnly(state: TlsOnlyState, _policy: TlsOnlyPolicy, ref: ResourceRef): Evaluation {
  const desired = { deniesInsecureTransport: { bucket: true, objects: true } };
  const website = state.website === undefined ? {} : { website: state.website };
  if (state.policy === null) {
    return {
      status: 'violation',
      observed: { policy: null, deniesInsecureTransport: { bucket: false, objects: false }, ...website },
      desired,
      reason: 'bucket has no bucket policy: requests without TLS (aws:SecureTransport false) are not denied',
    };
  }
  const parsed = parseBucketPolicy(state.policy);
  if ('error' in parsed) return { status: 'unknown', reason: parsed.error };
  const covered = tlsDenyCoverage(parsed.statements, ref.arn);
  if (covered.bucket && covered.objects) return { status: 'compliant' };
  const missing = !covered.bucket && !covered.objects ? 'the bucket and its objects' : covered.bucket ? 'its objects' : 'the bucket';
  return {
    status: 'violation',
    observed: { statements: parsed.statements.length, deniesInsecureTransport: covered, ...website },
    desired,
    reason: `bucket policy does not deny requests without TLS (aws:SecureTransport false) on ${missing}`,
  };
}

/** The state a record tells: the whole new policy (PutBucketPolicy), or none at all. */
function stateFromRecord(event: Extract<RampartEvent, { kind: 'cloudtrail' }>): Observation<TlsOnlyState> {
  const { eventName, requestParameters } = event.record;
  switch (eventName) {
    // a new bucket has no policy; DeleteBucketPolicy removes the whole policy
    case 'CreateBucket':
    case 'DeleteBucketPolicy':
      return { status: 'known', state: { policy: null } };
    case 'PutBucketPolicy': {
      // CloudTrail renders the policy document as a parsed object
      const document = asObject(requestParameters?.bucketPolicy);
      return document
        ? { status: 'known', state: { policy: JSON.stringify(document) } }
        : { status: 'unknown', reason: 'PutBucketPolicy record carries no bucketPolicy' };
    }
    default:
      return { status: 'unknown', reason: `${eventName} does not reveal the bucket policy` };
  }
}

/** Config records the policy as text in `supplementaryConfiguration.BucketPolicy.policyText` (null: no policy). */
function stateFromConfigItem(supplementary: Json | undefined): Observation<TlsOnlyState> {
  const bucketPolicy = asObject(supplementary?.BucketPolicy);
  if (!bucketPolicy) return { status: 'unknown', reason: 'Config item carries no BucketPolicy' };
  const text = bucketPolicy.policyText;
  if (text === null || text === undefined) return { status: 'known', state: { policy: null } };
  return typeof text === 'string'
    ? { status: 'known', state: { policy: text } }
    : { status: 'unknown', reason: 'Config item carries a BucketPolicy.policyText that is not text' };
}

const EVENT_NAMES = ['PutBucketPolicy', 'DeleteBucketPolicy', 'CreateBucket'] as const;

export const s3TlsOnly: Detector<TlsOnlyState, TlsOnlyPolicy, 's3-tls-only'> = {
  id: 's3-tls-only',
  title: 'S3 bucket policies deny requests without TLS on the bucket and its objects',
  severity: 'medium',
  // Security Hub controls reference: S3.5 "S3 general purpose buckets should require requests to use SSL"
  securityHubControls: ['S3.5'],
  resources: [s3Bucket],
  get policySchema() {
    return tlsOnlyPolicySchema();
  },
  triggers: {
    cloudTrail: [{ source: 'aws.s3', eventSource: 's3.amazonaws.com', eventNames: EVENT_NAMES }],
    configResourceTypes: ['AWS::S3::Bucket'],
  },

  resourcesFrom: bucketsFrom,

  stateFrom(event: RampartEvent): Observation<TlsOnlyState> {
    if (event.kind === 'cloudtrail') return stateFromRecord(event);
    const fromConfig = configObservation(event, 'bucket', (item) => stateFromConfigItem(asObject(item.supplementaryConfiguration)));
    return fromConfig ?? { status: 'unknown', reason: 'event does not concern S3 buckets' };
  },

  async readState(ref: ResourceRef, clients: AwsClients): Promise<Observation<TlsOnlyState>> {
    if (!s3Bucket.is(ref)) throw new TypeError(`not a bucket: ${ref.arn}`);
    const sdk = s3Sdk();
    const { s3, owner } = bucketClient(ref, clients);
    let policy: string | null;
    try {
      policy = (await s3.send(new sdk.GetBucketPolicyCommand({ Bucket: ref.bucket, ...owner }))).Policy ?? null;
    } catch (error) {
      if (isBucketGone(error)) return { status: 'gone', reason: `bucket ${ref.bucket} does not exist` };
      if (awsErrorName(error) !== 'NoSuchBucketPolicy') throw error;
      policy = null;
    }
    let website = true;
    try {
      await s3.send(new sdk.GetBucketWebsiteCommand({ Bucket: ref.bucket, ...owner }));
    } catch (error) {
      if (awsErrorName(error) !== 'NoSuchWebsiteConfiguration') throw error;
      website = false;
    }
    return { status: 'known', state: { policy, website }, tags: await readBucketTags(ref, clients) };
  },

  readPermissions: [
    {
      actions: ['s3:GetBucketPolicy', 's3:GetBucketWebsite', 's3:GetBucketTagging'],
      resources: ['arn:${Partition}:s3:::*'],
    },
  ],

  evaluate: evaluateTlsOnly,

  listPermissions: BUCKET_LIST_PERMISSIONS,
  list: listBuckets,
};
