import type { AdvancedEventSelector, EventSelector } from '@aws-sdk/client-cloudtrail';
import * as z from 'zod/mini';
import type { AwsClients } from '../core/aws';
import { lazySchema, type Detector, type Observation, type Permission } from '../core/control';
import type { RampartEvent } from '../core/events';
import type { Evaluation } from '../core/finding';
import { defineKind, type ResourceRef } from '../core/resources';
import { lazyModule } from '../core/sdk';
import { awsErrorName } from './aws-errors';
import { configObservation } from './config-events';
import { asObject, type Json } from './json';
import { compareKmsKeys, isAlias } from './kms-keys';
import { riskSchema } from './policy-fields';

// eslint-disable-next-line @typescript-eslint/no-require-imports
export const cloudTrailSdk = lazyModule(() => require('@aws-sdk/client-cloudtrail') as typeof import('@aws-sdk/client-cloudtrail'));

/** The control's slice of the policy (`controls.cloudtrail-logging`). A trail stricter than it is compliant. */
export const trailPolicySchema = lazySchema(() => {
  return z.strictObject({
    /** Trails held to the policy: `*`, or trail names or ARNs. */
    trails: z._default(z.array(z.string().check(z.minLength(1))).check(z.minLength(1)), ['*']),
    multiRegion: z._default(z.boolean(), true),
    logFileValidation: z._default(z.boolean(), true),
    includeGlobalServiceEvents: z._default(z.boolean(), true),
    /**
     * The KMS key the log files must be encrypted with: a key ARN or key id. Not an alias: a trail
     * reports its key by ARN, and an alias could not be compared with it without asking KMS.
     * Unset: not checked.
     */
    kmsKeyId: z.optional(
      z.string().check(
        z.minLength(1),
        z.refine((id) => !isAlias(id), { message: 'give the key ARN or key id, not an alias: a trail reports its KMS key by key ARN' }),
      ),
    ),
    /** `All`: read and write management events; `WriteOnly`: write events at least. */
    managementEvents: z._default(z.enum(['All', 'WriteOnly']), 'All'),
    risk: riskSchema('low'),
  });
});

export type TrailPolicy = z.infer<ReturnType<typeof trailPolicySchema>>;

/** A trail: its ARN names its home region and the account that owns it (an organization trail's is the management account). */
export interface TrailRef extends ResourceRef {
  type: 'AWS::CloudTrail::Trail';
  region: string;
  trail: string;
  /** The account in the ARN; `account` is the account the trail is seen from. */
  owner: string;
}

export const cloudTrailTrail = defineKind<TrailRef, { trail: string; owner: string }>({
  type: 'AWS::CloudTrail::Trail',
  configResourceType: 'AWS::CloudTrail::Trail',
  build: ({ trail, owner }, { partition, region }) => `arn:${partition}:cloudtrail:${region ?? ''}:${owner}:trail/${trail}`,
  parse(parts) {
    const name = /^trail\/([^/]+)$/.exec(parts.resource)?.[1];
    return parts.service === 'cloudtrail' && parts.region && parts.accountId && name
      ? { trail: name, owner: parts.accountId, region: parts.region }
      : undefined;
  },
  nameOf: (ref) => ref.trail,
  notFoundCodes: ['TrailNotFoundException'],
});

/**
 * The trail a record or item names (`name`/`trailName` may be a bare name or an ARN), seen from
 * `account`. A bare name is the trail of that account in `region`: successful calls on a trail
 * are made in its home region.
 */
export function trailRef(nameOrArn: string, region: string | undefined, account: string | undefined): TrailRef | undefined {
  if (nameOrArn.startsWith('arn:')) {
    const parsed = cloudTrailTrail.arn.parse(nameOrArn);
    return parsed && { ...parsed, ...(account ? { account } : {}) };
  }
  if (!region || !account || nameOrArn.includes('/')) return undefined;
  return cloudTrailTrail.ref({ trail: nameOrArn, owner: account }, { region, account });
}

/** The trail's management-event selectors, in the form the trail uses (a trail has one or the other). */
export type TrailSelectors =
  { form: 'basic'; eventSelectors: EventSelector[] } | { form: 'advanced'; advancedEventSelectors: AdvancedEventSelector[] };

/** What the control judges of a trail; a field an event does not reveal is absent. */
export interface TrailState {
  /** The trail no longer exists: the violation this control exists for (never `gone`). */
  deleted?: boolean;
  isLogging?: boolean;
  isMultiRegionTrail?: boolean;
  logFileValidationEnabled?: boolean;
  includeGlobalServiceEvents?: boolean;
  /** `null`: log files are not encrypted with KMS. */
  kmsKeyId?: string | null;
  isOrganizationTrail?: boolean;
  selectors?: TrailSelectors;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const bool = (v: unknown): boolean | undefined => (typeof v === 'boolean' ? v : undefined);

/** Records carry selectors in lower camel case (`readWriteType`, `fieldSelectors`); the SDK's are PascalCase. */
function pascal(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(pascal);
  const o = asObject(value);
  if (!o) return value;
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k.charAt(0).toUpperCase() + k.slice(1), pascal(v)]));
}

function selectorsFrom(o: Json | undefined): TrailSelectors | undefined {
  const advanced = o?.advancedEventSelectors ?? o?.AdvancedEventSelectors;
  if (Array.isArray(advanced) && advanced.length > 0)
    return { form: 'advanced', advancedEventSelectors: pascal(advanced) as AdvancedEventSelector[] };
  const basic = o?.eventSelectors ?? o?.EventSelectors;
  return Array.isArray(basic) ? { form: 'basic', eventSelectors: pascal(basic) as EventSelector[] } : undefined;
}

/**
 * The trail's settings from a CreateTrail/UpdateTrail response or a Config item (the whole
 * resulting trail: no `kmsKeyId` means no KMS), else from the request (only what it sends;
 * `enableLogFileValidation`, and `kmsKeyId: ""` removes KMS).
 */
function settingsFrom(whole: Json | undefined, request: Json | undefined): TrailState {
  if (whole) {
    return {
      isMultiRegionTrail: bool(whole.isMultiRegionTrail),
      logFileValidationEnabled: bool(whole.logFileValidationEnabled),
      includeGlobalServiceEvents: bool(whole.includeGlobalServiceEvents),
      kmsKeyId: str(whole.kmsKeyId) ?? null,
      isOrganizationTrail: bool(whole.isOrganizationTrail),
    };
  }
  const kms = request?.kmsKeyId;
  return {
    isMultiRegionTrail: bool(request?.isMultiRegionTrail),
    logFileValidationEnabled: bool(request?.enableLogFileValidation),
    includeGlobalServiceEvents: bool(request?.includeGlobalServiceEvents),
    kmsKeyId: typeof kms === 'string' ? (str(kms) ?? null) : undefined,
  };
}

function compact(state: TrailState): TrailState {
  return Object.fromEntries(Object.entries(state).filter(([, v]) => v !== undefined)) as TrailState;
}

function stateFromRecord(event: Extract<RampartEvent, { kind: 'cloudtrail' }>): Observation<TrailState> {
  const { eventName, requestParameters, responseElements } = event.record;
  switch (eventName) {
    case 'StopLogging':
      return { status: 'known', state: { isLogging: false } };
    case 'DeleteTrail':
      return { status: 'known', state: { deleted: true } };
    case 'CreateTrail':
    case 'UpdateTrail':
      // neither says whether the trail logs (a new trail starts logging only with StartLogging)
      return { status: 'known', state: compact(settingsFrom(asObject(responseElements), requestParameters ?? undefined)) };
    case 'PutEventSelectors': {
      const selectors = selectorsFrom(asObject(responseElements)) ?? selectorsFrom(requestParameters ?? undefined);
      return selectors
        ? { status: 'known', state: { selectors } }
        : { status: 'unknown', reason: 'PutEventSelectors record carries no selectors' };
    }
    default:
      return { status: 'unknown', reason: `${eventName} does not reveal the trail's settings` };
  }
}

/** Which management events a selector set records: `complete` counts only selectors that exclude no event source. */
export function managementCoverage(selectors: TrailSelectors): {
  read: boolean;
  write: boolean;
  completeRead: boolean;
  completeWrite: boolean;
} {
  const out = { read: false, write: false, completeRead: false, completeWrite: false };
  const add = (read: boolean, write: boolean, complete: boolean) => {
    out.read ||= read;
    out.write ||= write;
    out.completeRead ||= read && complete;
    out.completeWrite ||= write && complete;
  };
  if (selectors.form === 'basic') {
    for (const s of selectors.eventSelectors) {
      if (s.IncludeManagementEvents === false) continue;
      const rw = s.ReadWriteType ?? 'All';
      add(rw !== 'WriteOnly', rw !== 'ReadOnly', (s.ExcludeManagementEventSources ?? []).length === 0);
    }
  } else {
    for (const s of selectors.advancedEventSelectors)
      if (isManagementSelector(s)) {
        const readOnly = (s.FieldSelectors ?? []).find((f) => f.Field === 'readOnly')?.Equals ?? [];
        const excludes = (s.FieldSelectors ?? []).some((f) => f.Field === 'eventSource' && (f.NotEquals ?? []).length > 0);
        // readOnly Equals ["true"]: read events only; ["false"]: write events only; absent: both
        add(readOnly.length === 0 || readOnly.includes('true'), readOnly.length === 0 || readOnly.includes('false'), !excludes);
      }
  }
  return out;
}

/** Do the selectors record the management events the policy requires, from every event source? */
export function recordsRequiredManagementEvents(selectors: TrailSelectors, policy: TrailPolicy): boolean {
  const c = managementCoverage(selectors);
  return policy.managementEvents === 'All' ? c.completeRead && c.completeWrite : c.completeWrite;
}

export function isManagementSelector(selector: AdvancedEventSelector): boolean {
  return (selector.FieldSelectors ?? []).some((f) => f.Field === 'eventCategory' && (f.Equals ?? []).includes('Management'));
}

/** Does the policy hold this trail (`*`, its name or its ARN)? */
export function inScope(ref: ResourceRef, policy: TrailPolicy): boolean {
  return policy.trails.some((t) => t === '*' || t === ref.arn || (cloudTrailTrail.is(ref) && t === ref.trail));
}

function desiredOf(policy: TrailPolicy): Json {
  return {
    isLogging: true,
    ...(policy.multiRegion ? { isMultiRegionTrail: true } : {}),
    ...(policy.logFileValidation ? { logFileValidationEnabled: true } : {}),
    ...(policy.includeGlobalServiceEvents ? { includeGlobalServiceEvents: true } : {}),
    ...(policy.kmsKeyId !== undefined ? { kmsKeyId: policy.kmsKeyId } : {}),
    managementEvents: policy.managementEvents,
  };
}

function observedOf(state: TrailState): Json {
  const { selectors, ...settings } = state;
  if (!selectors) return { ...settings };
  const c = managementCoverage(selectors);
  const managementEvents =
    c.completeRead && c.completeWrite
      ? 'All'
      : c.completeWrite
        ? 'WriteOnly'
        : c.completeRead
          ? 'ReadOnly'
          : c.read || c.write
            ? 'Partial'
            : 'None';
  return { ...settings, managementEvents, selectorForm: selectors.form };
}

/**
 * Pure: the trail judged against the policy. Only what the state knows is judged: a violation
 * of a known field is a violation; a field the event does not reveal makes the rest `unknown`.
 *
 * @example evaluateTrail({ isLogging: false }, policy).status // 'violation'
 */
export function evaluateTrail(state: TrailState, policy: TrailPolicy, ref?: ResourceRef): Evaluation {
  // the policy requires nothing of a trail it does not name
  if (ref && !inScope(ref, policy)) return { status: 'compliant' };
  const desired = desiredOf(policy);
  if (state.deleted) {
    return {
      status: 'violation',
      observed: { deleted: true },
      desired,
      reason: 'trail was deleted: its logging stopped in every region it covered',
    };
  }
  const problems: string[] = [];
  const unknown: string[] = [];
  const expect = (value: boolean | undefined, label: string, problem: string) => {
    if (value === undefined) unknown.push(label);
    else if (!value) problems.push(problem);
  };
  expect(state.isLogging, 'logging status', 'trail is not logging');
  if (policy.multiRegion) expect(state.isMultiRegionTrail, 'multi-region setting', 'trail is not multi-region');
  if (policy.logFileValidation) expect(state.logFileValidationEnabled, 'log file validation', 'log file validation is disabled');
  if (policy.includeGlobalServiceEvents)
    expect(state.includeGlobalServiceEvents, 'global service events', 'global service events are not included');
  if (policy.kmsKeyId !== undefined) {
    if (state.kmsKeyId === undefined) unknown.push('KMS key');
    else if (state.kmsKeyId === null) problems.push(`log files are not encrypted with KMS, policy requires ${policy.kmsKeyId}`);
    else {
      const keys = compareKmsKeys(state.kmsKeyId, policy.kmsKeyId);
      if (keys === 'different') problems.push(`log files are encrypted with ${state.kmsKeyId}, policy requires ${policy.kmsKeyId}`);
      // a record may name the key by alias (UpdateTrail takes one): only KMS could tell
      if (keys === 'undecidable') unknown.push(`KMS key (${state.kmsKeyId} is an alias)`);
    }
  }
  if (!state.selectors) unknown.push('event selectors');
  else {
    if (!recordsRequiredManagementEvents(state.selectors, policy))
      problems.push(`trail does not record ${policy.managementEvents === 'All' ? 'all (read and write)' : 'all write'} management events`);
  }
  if (problems.length > 0) return { status: 'violation', observed: observedOf(state), desired, reason: problems.join('; ') };
  if (unknown.length > 0) return { status: 'unknown', reason: `the event does not reveal the trail's ${unknown.join(', ')}` };
  return { status: 'compliant' };
}

/** Is the trail owned by the account it is seen from? An organization trail seen from a member account is not. */
export function ownTrail(ref: TrailRef): boolean {
  return ref.account === undefined || ref.account === ref.owner;
}

// trails live in any region (a multi-region trail's home is where its calls go); the account is
// `*` so that a member account can read the organization trail of its management account
const TRAILS = 'arn:${Partition}:cloudtrail:*:*:trail/*';

const READS: readonly Permission[] = [
  {
    actions: ['cloudtrail:GetTrail', 'cloudtrail:GetTrailStatus', 'cloudtrail:GetEventSelectors', 'cloudtrail:ListTags'],
    resources: [TRAILS],
  },
];

/**
 * The selectors GetEventSelectors gave. A trail without custom selectors records what the
 * default selector does, all management events (some emulators answer such a trail with none).
 */
function selectorsRead(basic: EventSelector[], advanced: AdvancedEventSelector[], custom: boolean): TrailSelectors {
  if (advanced.length > 0) return { form: 'advanced', advancedEventSelectors: advanced };
  if (basic.length === 0 && !custom)
    return {
      form: 'basic',
      eventSelectors: [{ ReadWriteType: 'All', IncludeManagementEvents: true, DataResources: [], ExcludeManagementEventSources: [] }],
    };
  return { form: 'basic', eventSelectors: basic };
}

/** The live trail, every call in its home region with its ARN (a shadow trail answers only to its ARN). */
async function readTrail(ref: TrailRef, clients: AwsClients): Promise<Observation<TrailState>> {
  const sdk = cloudTrailSdk();
  const client = clients.get(sdk.CloudTrailClient, ref.region);
  try {
    const [{ Trail: trail }, status, selectors] = await Promise.all([
      client.send(new sdk.GetTrailCommand({ Name: ref.arn })),
      client.send(new sdk.GetTrailStatusCommand({ Name: ref.arn })),
      client.send(new sdk.GetEventSelectorsCommand({ TrailName: ref.arn })),
    ]);
    let tags: Record<string, string> = {};
    // an organization trail's tags are its management account's: a member cannot read them
    if (ownTrail(ref)) {
      const out = await client.send(new sdk.ListTagsCommand({ ResourceIdList: [ref.arn] }));
      const list = out.ResourceTagList?.find((r) => r.ResourceId === ref.arn)?.TagsList ?? [];
      tags = Object.fromEntries(list.map((t) => [t.Key, t.Value ?? '']));
    }
    const state: TrailState = {
      isLogging: status.IsLogging === true,
      isMultiRegionTrail: trail?.IsMultiRegionTrail === true,
      logFileValidationEnabled: trail?.LogFileValidationEnabled === true,
      includeGlobalServiceEvents: trail?.IncludeGlobalServiceEvents === true,
      kmsKeyId: trail?.KmsKeyId || null,
      isOrganizationTrail: trail?.IsOrganizationTrail === true,
      selectors: selectorsRead(
        selectors.EventSelectors ?? [],
        selectors.AdvancedEventSelectors ?? [],
        trail?.HasCustomEventSelectors === true,
      ),
    };
    return { status: 'known', state, tags };
  } catch (error) {
    // a deleted trail is a violation, not a resource gone quietly
    if (cloudTrailTrail.notFoundCodes.includes(awsErrorName(error) ?? '')) return { status: 'known', state: { deleted: true }, tags: {} };
    throw error;
  }
}

const EVENT_NAMES = ['StopLogging', 'DeleteTrail', 'UpdateTrail', 'PutEventSelectors', 'CreateTrail'] as const;

export const cloudtrailLogging: Detector<TrailState, TrailPolicy, 'cloudtrail-logging'> = {
  id: 'cloudtrail-logging',
  title: 'CloudTrail trails log, in every region, with validated and encrypted log files and all management events',
  // multi-Region trail with read and write management events; encryption at rest; log file validation
  securityHubControls: ['CloudTrail.1', 'CloudTrail.2', 'CloudTrail.4'],
  // a trail that stops or goes blinds every other control's events too
  severity: 'high',
  resources: [cloudTrailTrail],
  get policySchema() {
    return trailPolicySchema();
  },
  triggers: {
    cloudTrail: [{ source: 'aws.cloudtrail', eventSource: 'cloudtrail.amazonaws.com', eventNames: EVENT_NAMES }],
    configResourceTypes: ['AWS::CloudTrail::Trail'],
  },

  resourcesFrom(event: RampartEvent): ResourceRef[] {
    if (event.kind === 'cloudtrail') {
      const { requestParameters: params, responseElements, awsRegion, recipientAccountId, userIdentity } = event.record;
      const named = str(asObject(responseElements)?.trailARN) ?? str(params?.name) ?? str(params?.trailName);
      const ref = named && trailRef(named, awsRegion, recipientAccountId ?? userIdentity?.accountId ?? undefined);
      return ref ? [ref] : [];
    }
    if (event.kind !== 'config-item' && event.kind !== 'config-oversized' && event.kind !== 'config-compliance') return [];
    const r = event.resource;
    if (r.resourceType !== cloudTrailTrail.configResourceType) return [];
    // whether Config's resourceId is the trail's name or ARN is not documented: both are read
    const ref = trailRef(r.arn ?? r.resourceId, r.region, r.account) ?? trailRef(r.resourceId, r.region, r.account);
    return ref ? [ref] : [];
  },

  stateFrom(event: RampartEvent): Observation<TrailState> {
    if (event.kind === 'cloudtrail') return stateFromRecord(event);
    // Config reports a deleted trail: the violation, not a resource gone
    if (event.kind === 'config-item' && event.resource.status.startsWith('ResourceDeleted'))
      return { status: 'known', state: { deleted: true } };
    const fromConfig = configObservation<TrailState>(event, 'trail', (item) => {
      const config = asObject(item.configuration);
      // Config records neither the logging status nor the event selectors
      return config
        ? { status: 'known', state: compact(settingsFrom(config, undefined)) }
        : { status: 'unknown', reason: 'Config item carries no configuration' };
    });
    return fromConfig ?? { status: 'unknown', reason: 'event does not concern CloudTrail trails' };
  },

  async readState(ref, clients) {
    if (!cloudTrailTrail.is(ref)) throw new TypeError(`not a trail: ${ref.arn}`);
    return readTrail(ref, clients);
  },
  readPermissions: READS,

  evaluate: (state, policy, ref) => evaluateTrail(state, policy, ref),

  // ListTrails takes no resource type (Service Authorization Reference): `*` alone
  listPermissions: [{ actions: ['cloudtrail:ListTrails'], resources: ['*'] }],

  async *list(clients: AwsClients): AsyncIterable<ResourceRef> {
    const sdk = cloudTrailSdk();
    const seen = new Set<string>();
    // whether ListTrails answers for every region is not documented: ask each region swept, once per trail
    for (const region of new Set([clients.region, ...clients.regions])) {
      for await (const page of sdk.paginateListTrails({ client: clients.get(sdk.CloudTrailClient, region) }, {})) {
        for (const t of page.Trails ?? []) {
          if (!t.TrailARN || seen.has(t.TrailARN)) continue;
          seen.add(t.TrailARN);
          const ref = trailRef(t.TrailARN, t.HomeRegion, clients.account);
          if (ref) yield ref;
        }
      }
    }
  },
};
