import { sendChange } from './send-change';
import type {
  AdvancedEventSelector,
  EventSelector,
  PutEventSelectorsCommandInput,
  StartLoggingCommandInput,
  UpdateTrailCommandInput,
} from '@aws-sdk/client-cloudtrail';
import type { Change, Plan, Remediator } from '../core/control';
import type { Finding } from '../core/finding';
import {
  cloudTrailSdk,
  cloudTrailTrail,
  cloudtrailLogging,
  evaluateTrail,
  isManagementSelector,
  managementCoverage,
  recordsRequiredManagementEvents,
  type TrailPolicy,
  type TrailSelectors,
  type TrailState,
} from '../detectors/cloudtrail-logging';
import { compareKmsKeys } from '../detectors/kms-keys';

// CloudTrail takes at most five basic event selectors per trail (PutEventSelectors)
const MAX_BASIC_SELECTORS = 5;

/**
 * The UpdateTrail members that bring the trail's settings to the policy: only those that fail
 * it are sent (UpdateTrail changes only the members sent). The KMS key is the last known good
 * one when that is the policy's key (its full ARN, where the policy may give the key id).
 */
function settingsUpdate(state: TrailState, policy: TrailPolicy, lastKnownGood?: TrailState): Omit<UpdateTrailCommandInput, 'Name'> {
  const update: Omit<UpdateTrailCommandInput, 'Name'> = {};
  if (policy.multiRegion && state.isMultiRegionTrail === false) update.IsMultiRegionTrail = true;
  if (policy.logFileValidation && state.logFileValidationEnabled === false) update.EnableLogFileValidation = true;
  if (policy.includeGlobalServiceEvents && state.includeGlobalServiceEvents === false) update.IncludeGlobalServiceEvents = true;
  if (policy.kmsKeyId !== undefined && state.kmsKeyId !== undefined) {
    const wrongKey = state.kmsKeyId === null || compareKmsKeys(state.kmsKeyId, policy.kmsKeyId) === 'different';
    if (wrongKey) {
      const known = lastKnownGood?.kmsKeyId;
      update.KmsKeyId = known && compareKmsKeys(known, policy.kmsKeyId) === 'same' ? known : policy.kmsKeyId;
    }
  }
  return update;
}

/**
 * The selectors that record the management events the policy requires, keeping every other
 * selector (data events, network activity) as it is: PutEventSelectors replaces them all.
 * What the trail already recorded is kept too (read events stay when the policy asks only for
 * writes), and the trail's form (basic or advanced) is kept: a request never carries both.
 */
export function selectorsToWrite(selectors: TrailSelectors, policy: TrailPolicy): { selectors: TrailSelectors } | { reason: string } {
  const had = managementCoverage(selectors);
  const reads = policy.managementEvents === 'All' || had.read;
  if (selectors.form === 'advanced') {
    const others = selectors.advancedEventSelectors.filter((s) => !isManagementSelector(s));
    const management: AdvancedEventSelector = {
      Name: selectors.advancedEventSelectors.find(isManagementSelector)?.Name ?? 'Management events selector',
      FieldSelectors: [{ Field: 'eventCategory', Equals: ['Management'] }, ...(reads ? [] : [{ Field: 'readOnly', Equals: ['false'] }])],
    };
    return { selectors: { form: 'advanced', advancedEventSelectors: [...others, management] } };
  }
  // management events move to one selector of their own; data resources stay where they were
  const others: EventSelector[] = selectors.eventSelectors
    .filter((s) => (s.DataResources ?? []).length > 0)
    .map((s) => ({ ...s, IncludeManagementEvents: false, ExcludeManagementEventSources: [] }));
  const management: EventSelector = {
    ReadWriteType: reads ? 'All' : 'WriteOnly',
    IncludeManagementEvents: true,
    DataResources: [],
    ExcludeManagementEventSources: [],
  };
  const eventSelectors = [...others, management];
  if (eventSelectors.length > MAX_BASIC_SELECTORS)
    return { reason: `the trail's data selectors leave no room for a management selector (at most ${MAX_BASIC_SELECTORS})` };
  return { selectors: { form: 'basic', eventSelectors } };
}

function change(
  operation: string,
  region: string,
  input: StartLoggingCommandInput | UpdateTrailCommandInput | PutEventSelectorsCommandInput,
): Change {
  return { service: 'cloudtrail', operation, region, input: input as unknown as Record<string, unknown> };
}

/**
 * Pure: the one call that fixes the most urgent problem of the trail: logging first (a stopped
 * trail records nothing), then its settings, then its selectors. A trail with several problems
 * is fixed one call at a time, a finding each (the sweep finds the next). Every call names the
 * trail by ARN and goes to its home region.
 */
export function planTrail(finding: Finding, state: TrailState, policy: TrailPolicy, lastKnownGood?: TrailState): Plan {
  if (evaluateTrail(state, policy).status === 'compliant') return { change: null, reason: 'the trail already complies with the policy' };
  const ref = cloudTrailTrail.arn.parse(finding.resourceArn);
  if (!ref) return { change: null, reason: `${finding.resourceArn} is not a trail ARN` };
  if (state.deleted) {
    return {
      change: null,
      reason:
        `trail ${ref.trail} was deleted: Rampart does not re-create trails (their bucket, bucket policy and key are ` +
        `the owner's); re-create it and start logging`,
    };
  }
  if (finding.account && finding.account !== ref.owner) {
    return {
      change: null,
      reason:
        `organization trail ${ref.trail} of account ${ref.owner}: account ${finding.account} can see it but not ` +
        `change it; fix it in the management account`,
    };
  }
  if (state.isLogging === false) return { change: change('StartLogging', ref.region, { Name: ref.arn }) };
  const update = settingsUpdate(state, policy, lastKnownGood);
  if (Object.keys(update).length > 0) return { change: change('UpdateTrail', ref.region, { Name: ref.arn, ...update }) };
  if (state.selectors && !recordsRequiredManagementEvents(state.selectors, policy)) {
    const written = selectorsToWrite(state.selectors, policy);
    if ('reason' in written) return { change: null, reason: written.reason };
    const input: PutEventSelectorsCommandInput =
      written.selectors.form === 'basic'
        ? { TrailName: ref.arn, EventSelectors: written.selectors.eventSelectors }
        : { TrailName: ref.arn, AdvancedEventSelectors: written.selectors.advancedEventSelectors };
    return { change: change('PutEventSelectors', ref.region, input) };
  }
  return { change: null, reason: 'the event does not reveal which settings to restore' };
}

/** Does the re-read trail carry what the change wrote (the trail may have other problems, each its own fix)? */
function carries(state: TrailState, written: Change, policy: TrailPolicy): boolean {
  if (state.deleted) return false;
  const input = written.input as Record<string, unknown>;
  switch (written.operation) {
    case 'StartLogging':
      return state.isLogging === true;
    case 'UpdateTrail':
      return (
        (input.IsMultiRegionTrail === undefined || state.isMultiRegionTrail === input.IsMultiRegionTrail) &&
        (input.EnableLogFileValidation === undefined || state.logFileValidationEnabled === input.EnableLogFileValidation) &&
        (input.IncludeGlobalServiceEvents === undefined || state.includeGlobalServiceEvents === input.IncludeGlobalServiceEvents) &&
        (input.KmsKeyId === undefined ||
          (typeof state.kmsKeyId === 'string' && compareKmsKeys(state.kmsKeyId, String(input.KmsKeyId)) !== 'different'))
      );
    case 'PutEventSelectors':
      return state.selectors !== undefined && recordsRequiredManagementEvents(state.selectors, policy);
    default:
      return false;
  }
}

const TRAILS = 'arn:${Partition}:cloudtrail:*:*:trail/*';

export const cloudtrailLoggingRemediator: Remediator<TrailState, TrailPolicy, 'cloudtrail-logging'> = {
  id: 'cloudtrail-logging',
  defaultRisk: 'low',
  // starting a stopped trail changes nothing but that it records again: low risk whatever the policy
  risk: (_finding, policy, planned) => (planned?.operation === 'StartLogging' ? 'low' : policy.risk),
  plan: planTrail,

  async apply(written, clients) {
    const sdk = cloudTrailSdk();
    await sendChange(sdk, sdk.CloudTrailClient, written, clients, Object.keys(cloudtrailLoggingRemediator.permissions));
  },

  async verify(ref, clients, policy, written) {
    const observation = await cloudtrailLogging.readState(ref, clients);
    if (observation.status !== 'known')
      return { compliant: false, reason: observation.status === 'gone' ? observation.reason : 'state unreadable' };
    const state = observation.state;
    const evaluation = evaluateTrail(state, policy);
    if (evaluation.status === 'compliant' || carries(state, written, policy)) return { compliant: true, state: observation.state };
    return {
      compliant: false,
      state: observation.state,
      reason: evaluation.status === 'violation' ? evaluation.reason : `${written.operation} does not read back`,
    };
  },

  targetOf: (written) => String(written.input.Name ?? written.input.TrailName),

  permissions: {
    StartLogging: { actions: ['cloudtrail:StartLogging'], resources: [TRAILS] },
    UpdateTrail: { actions: ['cloudtrail:UpdateTrail'], resources: [TRAILS] },
    PutEventSelectors: { actions: ['cloudtrail:PutEventSelectors'], resources: [TRAILS] },
  },
};
