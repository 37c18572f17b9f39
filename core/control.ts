import type { AwsClients } from './aws';
import type { Risk, Severity } from './controls';
import type { RampartEvent } from './events';
import type { Evaluation, Finding, ResourceRef } from './finding';
import type { ResourceKind } from './resources';
import type { $ZodType } from 'zod/v4/core';
import { lazy } from './lazy';

/**
 * The detector contract (docs/architecture.md, "Adding a control"). One module per control
 * implements it; the registry (`controls/index.ts`) lists them; infra and the CLI iterate over
 * the registry.
 */

/** CloudTrail API calls that may change what a control judges. */
export interface CloudTrailTrigger {
  /** EventBridge `source`, e.g. `aws.s3`. */
  source: string;
  /** CloudTrail `eventSource`, e.g. `s3.amazonaws.com`. */
  eventSource: string;
  eventNames: readonly string[];
}

/** Triggers as data: infra turns them into EventBridge patterns, the CLI routes replayed events with them. */
export interface Triggers {
  cloudTrail: readonly CloudTrailTrigger[];
  /** Config resource types whose configuration item changes (and rule compliance changes) concern the control. */
  configResourceTypes: readonly string[];
}

/**
 * What is known of a resource's state: from the event alone (offline), or read from AWS.
 * `unknown` is an honest "the event does not say"; `gone` means the resource no longer exists.
 */
export type Observation<State> =
  | { status: 'known'; state: State; tags?: Record<string, string> }
  | { status: 'unknown'; reason: string }
  | { status: 'gone'; reason: string };

/**
 * The detector half of a control: `State` is what it judges, `P` its slice of the policy
 * (what its `policySchema` parses to), `Id` its control id.
 */
export interface Detector<State = unknown, P = unknown, Id extends string = string> {
  id: Id;
  title: string;
  severity: Severity;
  /**
   * The AWS Security Hub controls that judge the same thing (`APIGateway.4`), from the Security
   * Hub controls reference; none where Security Hub has no such control. Findings sent to Security
   * Hub (and `--format asff`) carry them.
   */
  securityHubControls?: readonly string[];
  /** The zod (mini) schema of the control's slice of the policy; the policy schema is assembled from these. */
  policySchema?: PolicySchema<P>;
  /** The kinds of resource the control guards: ARN grammar, Config type, "not found" codes. */
  resources?: readonly ResourceKind[];
  triggers: Triggers;
  /** The resources an event touches; empty when the event is about something this control does not guard. */
  resourcesFrom(event: RampartEvent): ResourceRef[];
  /** Best-effort state after the event, from the event alone. */
  stateFrom(event: RampartEvent, ref: ResourceRef): Observation<State>;
  /** The real current state. */
  readState(ref: ResourceRef, clients: AwsClients): Promise<Observation<State>>;
  /** What `readState` (and `resolveState`) calls need. */
  readPermissions: readonly Permission[];
  /**
   * Online only, optional: settles with AWS what `evaluate` cannot tell offline (a KMS alias
   * against a key ARN), returning the state in the policy's terms where they agree.
   */
  resolveState?(state: State, policy: P, ref: ResourceRef, clients: AwsClients): Promise<State>;
  /** Pure: the state judged against the control's policy. */
  evaluate(state: State, policy: P, ref: ResourceRef): Evaluation;
  /** Every resource of the control's types, for the sweep. */
  list(clients: AwsClients): AsyncIterable<ResourceRef>;
  /** What `list` calls need (infra grants them to the sweep). */
  listPermissions: readonly Permission[];
  /**
   * Optional, pure: the control's slice completed from the other controls the policy enables,
   * when the policy is read (config-recording requires the Config resource types they rely on).
   * Applied on every read of the policy, so it must give the same slice when applied again.
   */
  completePolicy?(policy: P, enabled: readonly AnyDetector[]): P;
  /**
   * Optional: the regional resources the control's policy names (a web ACL ARN), with their
   * path in the slice, so a deployable policy refuses one in a region it does not guard.
   */
  policyRegions?(policy: P): PolicyRegionRef[];
}

/** A regional resource a control's policy names: where in the slice, and its region. */
export interface PolicyRegionRef {
  path: readonly PropertyKey[];
  region: string;
}

/** A detector of any control, as the registry holds them. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyDetector = Detector<any, any, string>;

/**
 * The remediator contract (docs/architecture.md, "Adding a control"): one module per control, `plan` pure, `apply` and
 * `verify` small I/O, `permissions` exactly what infra grants.
 */

/** One AWS API call that fixes a finding: what `replay --plan` shows and `apply` sends. */
export interface Change {
  /** The SDK service of the call (`s3`, `wafv2`, `apigateway`...). */
  service: string;
  /** The API name of the SDK command (`PutBucketEncryption`, `AssociateWebACL`, `UpdateStage`, `UpdateUsagePlan`). */
  operation: string;
  /** Where the call goes: the bucket's or the stage's own region. */
  region: string;
  /** Exactly the SDK v3 command input `apply` sends. */
  input: Record<string, unknown>;
  /**
   * The account the call acts in, when its input does not name the resource fully (a Config
   * recorder is named without its account), so `targetOf` can still tell the resource.
   */
  account?: string;
  /**
   * Calls that complete the same fix, sent in order after this one and only if it succeeded (a
   * cancelled key deletion leaves the key disabled: `EnableKey` follows `CancelKeyDeletion`).
   * Each is one of the remediator's declared operations and writes to the same resource.
   */
  followUps?: readonly Change[];
  /**
   * What an approver must know beyond the calls themselves (a deployment also ships every
   * other undeployed change of the API); shown wherever the change is (`followUpsText`).
   */
  notice?: string;
}

/** The calls of a change in the order they are sent: the change, then its follow-ups. */
export function stepsOf(change: Change): Change[] {
  return [change, ...(change.followUps ?? []).flatMap(stepsOf)];
}

/**
 * What follows the first call of a change for humans: `, then EnableKey {...}` per follow-up,
 * then the notice (`. A deployment also ships ...`); `''` when there is neither.
 */
export function followUpsText(change: Change): string {
  const then = stepsOf(change)
    .slice(1)
    .map((step) => `, then ${step.operation} ${JSON.stringify(step.input)}`)
    .join('');
  return then + (change.notice ? `. ${change.notice}` : '');
}

/** One line for humans: `CancelKeyDeletion {...}, then EnableKey {...}`, and the notice. */
export function describeChange(change: Change): string {
  return `${change.operation} ${JSON.stringify(change.input)}${followUpsText(change)}`;
}

export type Plan = { change: Change } | { change: null; reason: string };

/** IAM actions on resource ARN patterns; `${Partition}` and `${Region}` (one pattern per region the guard acts in) are left to infra. */
export interface Permission {
  actions: readonly string[];
  resources: readonly string[];
}

/** What a re-read after a fix says. */
export interface Verification {
  compliant: boolean;
  /** The state read back (for the outcome and last-known-good). */
  state?: unknown;
  reason?: string;
}

/** The remediator half of a control, with the same `State`, `P` and `Id` as its detector. */
export interface Remediator<State = unknown, P = unknown, Id extends string = string> {
  id: Id;
  /** The risk of a fix when the policy does not say (`risk` in the control's policy wins). */
  defaultRisk?: Risk;
  /** `high` sends the fix through a human approval first. */
  /** `change` is the planned call, when there is one: a control may rate its calls differently (starting a stopped trail is safe). */
  risk(finding: Finding, policy: P, change?: Change): Risk;
  /** Pure: the exact call that brings `state` to the policy, or why there is none. */
  plan(finding: Finding, state: State, policy: P, lastKnownGood?: State): Plan;
  apply(change: Change, clients: AwsClients): Promise<void>;
  /** Re-reads the resource: compliant with the policy, or carrying exactly what `change` wrote. */
  verify(ref: ResourceRef, clients: AwsClients, policy: P, change: Change): Promise<Verification>;
  /** The ARN a change writes to, so nothing is ever written to another resource than the finding's. */
  targetOf(change: Change): string;
  /**
   * Write permissions, by operation: infra grants exactly these; an AccessDenied names them.
   * Two services of one control may share an operation name (S3's and S3 Control's
   * `PutPublicAccessBlock`): the other service's is keyed `<service>:<operation>` ({@link permissionOf}).
   */
  permissions: Readonly<Record<string, Permission>>;
  /** Reads only `apply` makes, to tell what an ambiguous write error meant; granted to the apply function alone. */
  applyReadPermissions?: readonly Permission[];
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyRemediator = Remediator<any, any, string>;

/**
 * The write permission a change needs: the one keyed `<service>:<operation>` when the
 * remediator declares it, else the one of its operation; `undefined` for a call it does not make.
 *
 * @example permissionOf(remediator, { service: 's3control', operation: 'PutPublicAccessBlock', region, input })
 */
export function permissionOf(
  remediator: Pick<AnyRemediator, 'permissions'>,
  change: Pick<Change, 'service' | 'operation'>,
): Permission | undefined {
  return remediator.permissions[`${change.service}:${change.operation}`] ?? remediator.permissions[change.operation];
}

/** A zod schema (zod/mini keeps the Lambda bundles small) of one control's slice of the policy. */
export type PolicySchema<P = unknown> = $ZodType<P>;

/**
 * A schema built on its first use, then kept: how the controls declare their policy schemas.
 * Every Lambda bundle carries every control and none validates the policy again (the synth
 * did), so schemas built at load were zod objects (and garbage collections) paid at each cold
 * start for nothing; the synth, the CLI and the tests build them when they first read them.
 *
 * @example export const tlsOnlyPolicySchema = lazySchema(() => z.strictObject({ risk: riskSchema('low') }));
 */
export const lazySchema: <S>(build: () => S) => () => S = lazy;

/** One control: its detector and remediator halves, bound once (the registry holds these). */
export interface Control<D extends AnyDetector = AnyDetector, R extends AnyRemediator = AnyRemediator> {
  id: D['id'];
  title: string;
  severity: Severity;
  defaultRisk: Risk;
  policySchema: NonNullable<D['policySchema']>;
  resources: readonly ResourceKind[];
  /** The detector's `policyRegions`, for the policy schema. */
  policyRegions?: (policy: never) => PolicyRegionRef[];
  detector: D;
  remediator: R;
}

/**
 * Binds a control's two halves; refuses halves of different controls, or a control that does
 * not declare what the engine, infra and the tests read from it.
 *
 * @example export const CONTROLS = [defineControl(s3DefaultEncryption, s3DefaultEncryptionRemediator)] as const;
 */
export function defineControl<D extends AnyDetector, R extends AnyRemediator & { id: D['id'] }>(detector: D, remediator: R): Control<D, R> {
  if (detector.id !== remediator.id)
    throw new TypeError(`detector ${detector.id} and remediator ${remediator.id} are halves of different controls`);
  if (!/^[a-z0-9]+(-[a-z0-9]+)*$/.test(detector.id)) throw new TypeError(`control id ${detector.id} is not kebab-case`);
  // `in`, not a read: reading builds the schema (`lazySchema`), which a Lambda never needs
  if (!('policySchema' in detector)) throw new TypeError(`control ${detector.id} declares no policySchema`);
  if (!detector.resources || detector.resources.length === 0) throw new TypeError(`control ${detector.id} declares no resource kinds`);
  return {
    id: detector.id,
    title: detector.title,
    severity: detector.severity,
    defaultRisk: remediator.defaultRisk ?? 'high',
    get policySchema() {
      const schema = detector.policySchema;
      if (!schema) throw new TypeError(`control ${detector.id} declares no policySchema`);
      return schema as NonNullable<D['policySchema']>;
    },
    resources: detector.resources,
    ...(detector.policyRegions ? { policyRegions: (policy: never) => detector.policyRegions!(policy) } : {}),
    detector,
    remediator,
  };
}
