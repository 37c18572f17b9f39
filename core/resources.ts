import { parse, validate } from '@aws-sdk/util-arn-parser';
import type { CloudTrailRecord } from './events';
import { extend } from './extend';

/**
 * Resources as data. A control names the kinds of resource it guards; each kind says how its
 * ARN is written and read, what AWS Config calls it and which error codes mean "it is gone".
 * Core knows no kind: the kinds live with the controls that use them (detectors/).
 */

/**
 * A resource a control guards. `arn` uses the stable formats of docs/architecture.md; the
 * identifiers the kind needs (`bucket`, `restApiId`, `stageName`...) sit beside it. The region
 * and the account travel beside the ARN, since many ARNs (S3, API Gateway) carry neither.
 */
export interface ResourceRef {
  /** CloudFormation / AWS Config type name, e.g. `AWS::S3::Bucket`. */
  type: string;
  arn: string;
  region?: string;
  account?: string;
  readonly [id: string]: string | undefined;
}

/** Where an ARN is built: partition, region and account (each may be empty in a kind's ARN). */
export interface ArnScope {
  partition?: string;
  region?: string;
  account?: string;
}

/** One kind of resource: its ARN grammar, Config type, name and "not found" error codes. */
export interface ResourceKind<Ref extends ResourceRef = ResourceRef, Ids = Record<string, string>> {
  /** CloudFormation type name (`AWS::S3::Bucket`). */
  type: Ref['type'];
  /** The AWS Config resource type, when Config records the kind. */
  configResourceType?: string;
  arn: {
    /** The ARN of the resource with these ids, in this partition/region/account. */
    build(ids: Ids, scope: ArnScope): string;
    /** The resource an ARN names, or `undefined` when the ARN is not of this kind. */
    parse(arn: string): Ref | undefined;
  };
  /** A full reference from ids: the ARN built, region and account kept beside it. */
  ref(ids: Ids, scope?: ArnScope): Ref;
  /** Narrows any reference to this kind. */
  is(ref: ResourceRef | undefined): ref is Ref;
  /** The name a human knows the resource by (a bucket name, `<api>/<stage>`). */
  nameOf(ref: Ref): string;
  /** AWS error codes (SDK error names) that mean the resource no longer exists. */
  notFoundCodes: readonly string[];
  /** How the kind's tags change (exemptions by tag react to it), when it has tags. */
  tagging?: KindTagging;
  /** The resource an AWS Config item names (its `resourceId`, and its `ARN` when the item has one). */
  fromConfig(item: { resourceId: string; arn?: string; region?: string; account?: string }): Ref | undefined;
}

/** What a tagging call did: tags set, keys removed, or the whole set replaced or deleted. */
export interface TagEdit {
  ref: ResourceRef;
  /** Tags the call set. */
  set: Record<string, string>;
  /** Keys the call removed; `all` when the whole tag set was deleted. */
  removed: string[] | 'all';
  /** The call replaced the whole tag set (S3): `set` is every tag the resource now has. */
  complete: boolean;
}

/** The CloudTrail calls that change a kind's tags, and how to read one. */
export interface KindTagging {
  /** EventBridge `source`, e.g. `aws.s3`. */
  source: string;
  eventSource: string;
  eventNames: readonly string[];
  /** The tag edit of a record of these calls, or `undefined` when it is about another resource kind. */
  editOf(record: CloudTrailRecord): TagEdit | undefined;
}

/** What a kind module declares; {@link defineKind} derives `ref` and `is`. */
export interface KindDefinition<Ref extends ResourceRef, Ids> {
  type: Ref['type'];
  configResourceType?: string;
  /** The ARN of `ids` in a full scope (partition always set). */
  build(ids: Ids, scope: Required<Pick<ArnScope, 'partition'>> & ArnScope): string;
  /** The ids (and region when the ARN has one) of an ARN of this kind, or `undefined`. */
  parse(parts: ArnParts): (Ids & { region?: string }) | undefined;
  nameOf(ref: Ref): string;
  notFoundCodes: readonly string[];
  /** The ids in a Config `resourceId`, when it is not the ARN (an S3 bucket's is its name). */
  configIds?(resourceId: string): Ids | undefined;
  /** Tag changes: `editOf` gets the kind's own ARN parser (tagging calls often name the resource by ARN). */
  tagging?: Omit<KindTagging, 'editOf'> & {
    editOf(record: CloudTrailRecord, parseArn: (arn: string) => Ref | undefined): TagEdit | undefined;
  };
}

/** An ARN split into its fields (`resource` is everything after the account). */
export interface ArnParts {
  partition: string;
  service: string;
  region: string;
  accountId: string;
  resource: string;
}

/**
 * Declares a resource kind from its grammar.
 *
 * @example const bucket = defineKind<BucketRef, { bucket: string }>({ type: 'AWS::S3::Bucket', build: ({ bucket }, { partition }) => `arn:${partition}:s3:::${bucket}`, ... })
 */
export function defineKind<Ref extends ResourceRef, Ids extends object>(definition: KindDefinition<Ref, Ids>): ResourceKind<Ref, Ids> {
  const ref = (ids: Ids, scope: ArnScope = {}): Ref => {
    const partition = scope.partition ?? (scope.region ? partitionOf(scope.region) : 'aws');
    const arn = definition.build(ids, { partition, region: scope.region, account: scope.account });
    return extend(ids as unknown as Ref, { type: definition.type, arn, region: scope.region, account: scope.account } as Partial<Ref>);
  };
  const kind: ResourceKind<Ref, Ids> = {
    type: definition.type,
    ...(definition.configResourceType ? { configResourceType: definition.configResourceType } : {}),
    arn: {
      build: (ids, scope) =>
        definition.build(ids, {
          partition: scope.partition ?? (scope.region ? partitionOf(scope.region) : 'aws'),
          region: scope.region,
          account: scope.account,
        }),
      parse(arn) {
        if (!validate(arn)) return undefined;
        const parts = parse(arn);
        const ids = definition.parse(parts);
        if (!ids) return undefined;
        const { region, ...rest } = ids as Ids & { region?: string };
        // the ARN's own partition and region win: they are what the resource is
        return ref(rest as Ids, { partition: parts.partition, region: region ?? (parts.region || undefined) });
      },
    },
    ref,
    is: (candidate): candidate is Ref => candidate?.type === definition.type,
    nameOf: definition.nameOf,
    notFoundCodes: definition.notFoundCodes,
    fromConfig({ resourceId, arn, region, account }) {
      const ids = definition.configIds?.(resourceId);
      const parsed = ids ? ref(ids, { region }) : (kind.arn.parse(arn ?? resourceId) ?? (arn ? kind.arn.parse(resourceId) : undefined));
      if (!parsed) return undefined;
      return extend<ResourceRef>(parsed, { region: parsed.region ?? region, account }) as Ref;
    },
  };
  if (definition.tagging) {
    const { editOf, ...calls } = definition.tagging;
    return { ...kind, tagging: { ...calls, editOf: (record) => editOf(record, kind.arn.parse) } };
  }
  return kind;
}

/** The resource an ARN names, among `kinds`; `undefined` for any other ARN. */
export function refFromArn(arn: string, kinds: readonly ResourceKind[], account?: string): ResourceRef | undefined {
  for (const kind of kinds) {
    const ref = kind.arn.parse(arn);
    if (ref) return account !== undefined ? extend(ref, { account }) : ref;
  }
  return undefined;
}

/** The partition of a region: `cn-north-1` → `aws-cn`, `us-gov-west-1` → `aws-us-gov`, else `aws`. */
export function partitionOf(region: string): string {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  if (region.startsWith('us-iso-')) return 'aws-iso';
  if (region.startsWith('us-isob-')) return 'aws-iso-b';
  return 'aws';
}
