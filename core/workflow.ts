import type { Change } from './control';
import type { Finding } from './finding';
import type { NotificationKind } from './notify';

/**
 * The remediation workflow's contract: what its execution and its tasks take. The detector
 * and the sweep start executions with `WorkflowInput`; the state machine (infra) passes the
 * others to the task Lambdas (handlers/workflow.ts).
 */

/** The execution input the detector (or the sweep) starts the workflow with. */
export interface WorkflowInput {
  finding: Finding;
  mode: 'enforce' | 'dry-run';
  generation: number;
}

export interface NotifyInput {
  finding: Finding;
  generation: number;
  notification: {
    kind: NotificationKind;
    reason?: string;
    change?: Change | null;
    decidedBy?: string;
    error?: { Error?: string; Cause?: string };
  };
}

export interface ChangeInput {
  finding: Finding;
  change: Change;
  generation: number;
}

export interface ApprovalRequestInput extends ChangeInput {
  taskToken: string;
}

/** The execution of one finding generation: Step Functions refuses a second of the same name. */
export const executionNameOf = (findingId: string, generation: number) => `${findingId}-${generation}`;
