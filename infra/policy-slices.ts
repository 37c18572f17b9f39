import type { ControlId } from '../core/controls';
import type { Policy } from '../core/policy';
import type { TABLE_ACTIONS } from './grants';

/** The Rampart functions that read the policy, named as in TABLE_ACTIONS. */
export type PolicyReader = Exclude<keyof typeof TABLE_ACTIONS, 'detector'> | { detector: ControlId };

/** A part of the synthesized policy: the keys a function reads, in the policy's own shape. */
export type PolicySlice = Partial<Omit<Policy, 'controls' | 'approvals' | 'notifications'>> & {
  controls: Policy['controls'];
  approvals?: Partial<Policy['approvals']>;
  notifications?: Partial<Policy['notifications']>;
};

/**
 * The part of the policy a function reads, and nothing else: Lambda refuses a function whose
 * environment is over 4 KB in total, and the whole policy (approver lists, a web ACL per stage)
 * outgrows that long before any one function's part does. What each function reads:
 * - a detector: its control's slice, `mode` (the workflow input), `regions`, `exemptions`;
 * - the sweep: every control's slice, `mode`, `regions`, `exemptions`, `sweep`, and the approval
 *   timeout (stale open findings);
 * - plan, apply, verify: every control's slice (they remediate any), `regions`, `exemptions`,
 *   `fixBudget`;
 * - request approval: `approvals` (recorded on the request, links to the approver emails);
 * - the approval callback: `approvals` and the Slack workspace and app (who may decide);
 * - notify: nothing (`controls` is always there, empty: the functions check they got a policy).
 *
 * @example policySliceFor(policy, { detector: 's3-default-encryption' }) // { controls: { 's3-default-encryption': {...} }, mode, regions, exemptions }
 */
export function policySliceFor(policy: Policy, reader: PolicyReader): PolicySlice {
  if (typeof reader === 'object') {
    const own = policy.controls[reader.detector];
    return {
      mode: policy.mode,
      regions: policy.regions,
      exemptions: policy.exemptions,
      controls: own === undefined ? {} : { [reader.detector]: own },
      ...organizationSlice(policy, [reader.detector]),
    };
  }
  switch (reader) {
    case 'sweep':
      return {
        mode: policy.mode,
        regions: policy.regions,
        exemptions: policy.exemptions,
        sweep: policy.sweep,
        approvals: { timeoutHours: policy.approvals.timeoutHours },
        controls: policy.controls,
        ...organizationSlice(policy, Object.keys(policy.controls)),
      };
    case 'plan':
    case 'apply':
    case 'verify':
      return {
        regions: policy.regions,
        exemptions: policy.exemptions,
        fixBudget: policy.fixBudget,
        controls: policy.controls,
        ...organizationSlice(policy, Object.keys(policy.controls)),
      };
    case 'requestApproval':
      return { approvals: policy.approvals, controls: {} };
    case 'approvalCallback':
      return {
        approvals: policy.approvals,
        notifications: policy.notifications.slack ? { slack: policy.notifications.slack } : {},
        controls: {},
      };
    case 'notify':
      return { controls: {} };
  }
}

/**
 * The organization keys a reader of these controls needs: the member roles it assumes and the
 * overrides of its controls (an override of another control is not its business). Nothing when
 * the policy has neither: a single-account guard's slices stay as they were.
 */
function organizationSlice(policy: Policy, controls: readonly string[]): Pick<PolicySlice, 'organization' | 'overrides'> {
  const overrides = policy.overrides.flatMap((o) => {
    const own = Object.fromEntries(Object.entries(o.controls ?? {}).filter(([id]) => controls.includes(id)));
    if (Object.keys(own).length === 0 && o.mode === undefined) return [];
    return [{ ...o, ...(o.controls ? { controls: own } : {}) }];
  });
  return {
    ...(policy.organization ? { organization: policy.organization } : {}),
    ...(overrides.length > 0 ? { overrides } : {}),
  };
}
