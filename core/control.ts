import type { AwsClients } from './aws';
import type { ControlId, ResourceType, Severity } from './controls';
import type { RampartEvent } from './events';
import type { Evaluation, ResourceRef } from './finding';
import type { Policy } from './policy';

/**
 * The detector contract (DESIGN.md §3). One module per control implements it; the registry
 * (`detectors/index.ts`) lists them; infra and the CLI iterate over the registry.
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
  configResourceTypes: readonly ResourceType[];
}

/**
 * What is known of a resource's state: from the event alone (offline), or read from AWS.
 * `unknown` is an honest "the event does not say"; `gone` means the resource no longer exists.
 */
export type Observation<State> =
  | { status: 'known'; state: State; tags?: Record<string, string> }
  | { status: 'unknown'; reason: string }
  | { status: 'gone'; reason: string };

/** The slice of the policy one control reads. */
export type ControlPolicy<Id extends ControlId> = NonNullable<Policy['controls'][Id]>;

export interface Detector<State = unknown, Id extends ControlId = ControlId> {
  id: Id;
  title: string;
  severity: Severity;
  resourceTypes: readonly ResourceType[];
  triggers: Triggers;
  /** The resources an event touches; empty when the event is about something this control does not guard. */
  resourcesFrom(event: RampartEvent): ResourceRef[];
  /** Best-effort state after the event, from the event alone. */
  stateFrom(event: RampartEvent, ref: ResourceRef): Observation<State>;
  /** The real current state. */
  readState(ref: ResourceRef, clients: AwsClients): Promise<Observation<State>>;
  /** Pure: the state judged against the control's policy. */
  evaluate(state: State, policy: ControlPolicy<Id>, ref: ResourceRef): Evaluation;
  /** Every resource of the control's types, for the sweep. */
  list(clients: AwsClients): AsyncIterable<ResourceRef>;
}

/** A detector of any control, as the registry holds them. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyDetector = Detector<any, any>;
