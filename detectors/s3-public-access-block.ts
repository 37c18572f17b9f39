import * as z from 'zod/mini';
import type { AwsClients } from '../core/aws';
import { lazySchema, type Detector, type Observation } from '../core/control';
import type { RampartEvent } from '../core/events';
import type { Evaluation, ResourceRef } from '../core/finding';
import { lazyModule } from '../core/sdk';
import { awsErrorName } from './aws-errors';
import { configObservation, refFromConfigEvent } from './config-events';
import { asObject, type Json } from './json';
import { riskSchema } from './policy-fields';
import { BUCKET_LIST_PERMISSIONS, bucketClient, bucketsFrom, isBucketGone, listBuckets, readBucketTags, s3Sdk } from './s3-reads';
import { accountBlockRef, s3AccountPublicAccessBlock, s3Bucket, type BucketRef } from './s3-resources';

// eslint-disable-next-line @typescript-eslint/no-require-imports
export const s3ControlSdk = lazyModule(() => require('@aws-sdk/client-s3-control') as typeof import('@aws-sdk/client-s3-control'));

/** The four Block Public Access settings, in the order S3 documents them. */
export const BLOCK_SETTINGS = ['BlockPublicAcls', 'IgnorePublicAcls', 'BlockPublicPolicy', 'RestrictPublicBuckets'] as const;
export type BlockSetting = (typeof BLOCK_SETTINGS)[number];
export type BlockSettings = Record<BlockSetting, boolean>;

/**
 * What a public website served through a public bucket policy needs off: S3 refuses a public
 * policy with `BlockPublicPolicy` and ignores it with `RestrictPublicBuckets`. The two ACL
 * settings stay required of an exempted website bucket.
 */
export const WEBSITE_SETTINGS: readonly BlockSetting[] = ['BlockPublicPolicy', 'RestrictPublicBuckets'];

/** The control's slice of the policy (`controls.s3-public-access-block`). */
export const publicAccessBlockPolicySchema = lazySchema(() => {
  return z.strictObject({
    /** Also hold the account-level Block Public Access (S3 Control) of each swept account. */
    account: z._default(z.boolean(), false),
    /** Buckets that serve a public website: exempted from `BlockPublicPolicy` and `RestrictPublicBuckets`. */
    websiteBuckets: z._default(
      z.strictObject({
        /** A bucket carrying any of these tag key/value pairs. */
        tags: z._default(z.record(z.string().check(z.minLength(1)), z.string()), {}),
        /** Bucket ARNs; `*` matches any run of characters. */
        arns: z._default(z.array(z.string().check(z.minLength(1))), []),
      }),
      { tags: {}, arns: [] },
    ),
    // a public-access change can take a public site or a partner's access down: a human approves by default
    risk: riskSchema('high'),
  });
});

export type PublicAccessBlockPolicy = z.infer<ReturnType<typeof publicAccessBlockPolicySchema>>;

/** A bucket's or an account's Block Public Access. */
export interface PublicAccessBlockState {
  /** The four settings; `null`: no configuration at all (every setting off). */
  settings: BlockSettings | null;
  /** A bucket's tags when known (website exemptions by tag); an event alone does not tell them. */
  tags?: Record<string, string>;
}

/** Settings as any source writes them (SDK and CloudTrail PascalCase, Config lower camel; `"true"` strings in XML renderings). */
export function settingsFrom(config: Json | undefined): BlockSettings {
  const on = (name: BlockSetting) => {
    const value = config?.[name] ?? config?.[name.charAt(0).toLowerCase() + name.slice(1)];
    return value === true || value === 'true';
  };
  return {
    BlockPublicAcls: on('BlockPublicAcls'),
    IgnorePublicAcls: on('IgnorePublicAcls'),
    BlockPublicPolicy: on('BlockPublicPolicy'),
    RestrictPublicBuckets: on('RestrictPublicBuckets'),
  };
}

function globMatches(pattern: string, value: string): boolean {
  if (!pattern.includes('*')) return pattern === value;
  return new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`).test(value);
}

/**
 * Why the policy exempts a bucket as a public website, `undefined` when it does not, or
 * `unknown` when only the bucket's tags (not known from an event) could tell.
 */
export function websiteExemptionOf(
  ref: ResourceRef,
  tags: Record<string, string> | undefined,
  policy: PublicAccessBlockPolicy,
): string | 'unknown' | undefined {
  const arn = policy.websiteBuckets.arns.find((p) => globMatches(p, ref.arn));
  if (arn) return `ARN matches websiteBuckets ${arn}`;
  const tagExemptions = Object.entries(policy.websiteBuckets.tags);
  if (tagExemptions.length === 0) return undefined;
  if (!tags) return 'unknown';
  const tag = tagExemptions.find(([key, value]) => tags[key] === value);
  return tag ? `tagged ${tag[0]}=${tag[1]}` : undefined;
}

const hasWebsiteExemptions = (policy: PublicAccessBlockPolicy) =>
  policy.websiteBuckets.arns.length > 0 || Object.keys(policy.websiteBuckets.tags).length > 0;

/** The settings the policy requires of a resource, and why fewer than four when it does. */
export function requiredSettings(
  ref: ResourceRef,
  tags: Record<string, string> | undefined,
  policy: PublicAccessBlockPolicy,
): { required: readonly BlockSetting[]; because?: string; undecided?: true } | null {
  const fewer = BLOCK_SETTINGS.filter((s) => !WEBSITE_SETTINGS.includes(s));
  if (s3AccountPublicAccessBlock.is(ref)) {
    if (!policy.account) return null;
    // account-level settings override every bucket's: the exempted websites would go dark
    return hasWebsiteExemptions(policy)
      ? {
          required: fewer,
          because: `${WEBSITE_SETTINGS.join(' and ')} are not required of the account: they would override the public website buckets the policy exempts`,
        }
      : { required: BLOCK_SETTINGS };
  }
  const exemption = websiteExemptionOf(ref, tags, policy);
  if (exemption === 'unknown') return { required: BLOCK_SETTINGS, undecided: true };
  return exemption
    ? { required: fewer, because: `public website bucket (${exemption}): ${WEBSITE_SETTINGS.join(' and ')} are not required` }
    : { required: BLOCK_SETTINGS };
}

/**
 * Pure: the resource's Block Public Access against the policy: all four settings on, except
 * what a public website bucket the policy exempts needs off (and the account, when the policy
 * exempts websites); the account-level one only when the policy asks.
 *
 * @example evaluatePublicAccessBlock({ settings: null }, policy, bucketRef('logs')).status // 'violation'
 */
export function evaluatePublicAccessBlock(state: PublicAccessBlockState, policy: PublicAccessBlockPolicy, ref: ResourceRef): Evaluation {
  const need = requiredSettings(ref, state.tags, policy);
  if (!need) return { status: 'compliant' };
  const off = need.required.filter((s) => state.settings?.[s] !== true);
  if (off.length === 0) return { status: 'compliant' };
  // only the two settings a website exemption waives are off, and only the tags could say whether it holds
  if (need.undecided && off.every((s) => WEBSITE_SETTINGS.includes(s))) {
    return {
      status: 'unknown',
      reason: `whether the bucket is a public website the policy exempts takes its tags (${off.join(', ')} off)`,
    };
  }
  const whose = s3AccountPublicAccessBlock.is(ref) ? 'account-level Block Public Access' : 'Block Public Access of the bucket';
  const what = state.settings === null ? `no ${whose} is configured` : `${whose} has ${off.join(', ')} off`;
  return {
    status: 'violation',
    observed: { settings: state.settings },
    desired: { settings: Object.fromEntries(need.required.map((s) => [s, true])), ...(need.because ? { exemption: need.because } : {}) },
    reason: need.because ? `${what} (${need.because})` : what,
  };
}

/** The state a record tells: a PutBucket/AccountPublicAccessBlock body, or none at all. */
function stateFromRecord(event: Extract<RampartEvent, { kind: 'cloudtrail' }>): Observation<PublicAccessBlockState> {
  const { eventName, requestParameters } = event.record;
  switch (eventName) {
    // a deleted configuration leaves every setting off (CreateBucket says nothing: since April 2023 S3 turns
    // the four settings on for a new bucket, before that it did not, and the record does not tell which)
    case 'DeleteBucketPublicAccessBlock':
    case 'DeleteAccountPublicAccessBlock':
      return { status: 'known', state: { settings: null } };
    case 'PutBucketPublicAccessBlock':
    case 'PutAccountPublicAccessBlock': {
      const config = asObject(requestParameters?.PublicAccessBlockConfiguration);
      return config
        ? { status: 'known', state: { settings: settingsFrom(config) } }
        : { status: 'unknown', reason: `${eventName} record carries no PublicAccessBlockConfiguration` };
    }
    default:
      return { status: 'unknown', reason: `${eventName} does not reveal the Block Public Access settings` };
  }
}

/** The account a record of an account-level call concerns: its recipient, else the caller's. */
function accountOf(event: Extract<RampartEvent, { kind: 'cloudtrail' }>): string | undefined {
  const { recipientAccountId, userIdentity } = event.record;
  const account = recipientAccountId ?? userIdentity?.accountId ?? undefined;
  return account && /^\d{12}$/.test(account) ? account : undefined;
}

const ACCOUNT_EVENTS: readonly string[] = ['PutAccountPublicAccessBlock', 'DeleteAccountPublicAccessBlock'];
const EVENT_NAMES = [
  'PutBucketPublicAccessBlock',
  'DeleteBucketPublicAccessBlock',
  'CreateBucket',
  // account-level calls are recorded as S3 events (host <account>.s3-control.<region>.amazonaws.com)
  ...ACCOUNT_EVENTS,
] as const;

async function readBucketBlock(ref: BucketRef, clients: AwsClients): Promise<Observation<PublicAccessBlockState>> {
  const { s3, owner } = bucketClient(ref, clients);
  let settings: BlockSettings | null;
  try {
    const out = await s3.send(new (s3Sdk().GetPublicAccessBlockCommand)({ Bucket: ref.bucket, ...owner }));
    settings = settingsFrom(out.PublicAccessBlockConfiguration as Json | undefined);
  } catch (error) {
    if (isBucketGone(error)) return { status: 'gone', reason: `bucket ${ref.bucket} does not exist` };
    if (awsErrorName(error) !== 'NoSuchPublicAccessBlockConfiguration') throw error;
    settings = null;
  }
  const tags = await readBucketTags(ref, clients);
  return { status: 'known', state: { settings, tags }, tags };
}

async function readAccountBlock(owner: string, region: string, clients: AwsClients): Promise<Observation<PublicAccessBlockState>> {
  const sdk = s3ControlSdk();
  try {
    const out = await clients.get(sdk.S3ControlClient, region).send(new sdk.GetPublicAccessBlockCommand({ AccountId: owner }));
    return { status: 'known', state: { settings: settingsFrom(out.PublicAccessBlockConfiguration as Json | undefined) }, tags: {} };
  } catch (error) {
    if (awsErrorName(error) !== 'NoSuchPublicAccessBlockConfiguration') throw error;
    return { status: 'known', state: { settings: null }, tags: {} };
  }
}

export const s3PublicAccessBlock: Detector<PublicAccessBlockState, PublicAccessBlockPolicy, 's3-public-access-block'> = {
  id: 's3-public-access-block',
  title: 'S3 Block Public Access has all four settings on, for each bucket and (when asked) the account',
  severity: 'high',
  // Security Hub controls reference: S3.8 "S3 general purpose buckets should block public access" (a bucket's),
  // S3.1 "S3 general purpose buckets should have block public access settings enabled" (the account's)
  securityHubControls: ['S3.1', 'S3.8'],
  resources: [s3Bucket, s3AccountPublicAccessBlock],
  get policySchema() {
    return publicAccessBlockPolicySchema();
  },
  triggers: {
    cloudTrail: [{ source: 'aws.s3', eventSource: 's3.amazonaws.com', eventNames: EVENT_NAMES }],
    configResourceTypes: ['AWS::S3::Bucket', 'AWS::S3::AccountPublicAccessBlock'],
  },

  resourcesFrom(event: RampartEvent): ResourceRef[] {
    if (event.kind === 'cloudtrail' && ACCOUNT_EVENTS.includes(event.record.eventName)) {
      const account = accountOf(event);
      return account ? [accountBlockRef(account, event.record.awsRegion)] : [];
    }
    const accountItem = refFromConfigEvent(event, s3AccountPublicAccessBlock);
    if (accountItem && accountItem.length > 0) return accountItem;
    return bucketsFrom(event);
  },

  stateFrom(event: RampartEvent): Observation<PublicAccessBlockState> {
    if (event.kind === 'cloudtrail') return stateFromRecord(event);
    const fromConfig = configObservation(event, 'Block Public Access', (item) => {
      if (item.resourceType === s3AccountPublicAccessBlock.configResourceType) {
        const config = asObject(item.configuration);
        return config
          ? { status: 'known', state: { settings: settingsFrom(config) } }
          : { status: 'unknown', reason: 'Config item carries no configuration' };
      }
      // a bucket's item: Config leaves PublicAccessBlockConfiguration out when it has none, or did not record it
      const config = asObject(asObject(item.supplementaryConfiguration)?.PublicAccessBlockConfiguration);
      return config
        ? { status: 'known', state: { settings: settingsFrom(config), ...(item.tags ? { tags: item.tags } : {}) } }
        : { status: 'unknown', reason: 'Config item carries no PublicAccessBlockConfiguration' };
    });
    return fromConfig ?? { status: 'unknown', reason: 'event does not concern S3 Block Public Access' };
  },

  async readState(ref: ResourceRef, clients: AwsClients): Promise<Observation<PublicAccessBlockState>> {
    if (s3Bucket.is(ref)) return readBucketBlock(ref, clients);
    if (s3AccountPublicAccessBlock.is(ref)) return readAccountBlock(ref.owner, ref.region ?? clients.region, clients);
    throw new TypeError(`not a bucket or an account's Block Public Access: ${ref.arn}`);
  },

  readPermissions: [
    // the IAM action behind GetPublicAccessBlock (bucket) is s3:GetBucketPublicAccessBlock
    { actions: ['s3:GetBucketPublicAccessBlock', 's3:GetBucketTagging'], resources: ['arn:${Partition}:s3:::*'] },
    // S3 Control's GetPublicAccessBlock: no resource type in the Service Authorization Reference, so `*` alone
    { actions: ['s3:GetAccountPublicAccessBlock'], resources: ['*'] },
  ],

  evaluate: evaluatePublicAccessBlock,

  listPermissions: BUCKET_LIST_PERMISSIONS,

  async *list(clients: AwsClients): AsyncIterable<ResourceRef> {
    // the account's own setting first (judged only when the policy asks), then every bucket
    if (clients.account) yield accountBlockRef(clients.account, clients.region);
    yield* listBuckets(clients);
  },
};
