import type { Change } from './control';
import type { ControlId } from './controls';
import type { Finding } from './finding';
import type { ApprovalsPolicy } from './policy';

/**
 * Where the deployed guard keeps its state: findings (one open per control + resource, with
 * their history), approval requests, and (in `last-known-good.ts`, `fix-budget.ts`) restore
 * points and the fix budget. Interfaces here; in-memory implementations for tests and the CLI;
 * DynamoDB ones in `dynamo-stores.ts`.
 */

export const FINDING_STATUSES = ['open', 'awaiting-approval', 'closed'] as const;
export type FindingStatus = (typeof FINDING_STATUSES)[number];

export interface FindingHistoryEntry {
  at: string;
  /** `detected`, `seen-again`, `approval-requested`, `approved`, `rejected`, `applied`, `verified`, `closed`... */
  event: string;
  detail?: string;
  by?: string;
}

export interface FindingRecord {
  id: string;
  finding: Finding;
  status: FindingStatus;
  /** How it ended (`remediated`, `expired`, `rejected`, `failed`...), once closed. */
  outcome?: string;
  /**
   * Names the finding's current workflow (`<id>-<generation>`) and approval. Strictly increasing
   * per finding and never reused, even after TTL removed the closed record: it is the time of
   * the (re)opening in milliseconds, or the previous generation + 1 when that is larger.
   */
  generation: number;
  openedAt: string;
  /** When the current generation was started by a restart (its workflow had ended without closing it). */
  restartedAt?: string;
  updatedAt: string;
  lastSeenAt: string;
  /** Events that saw the open finding again (deduplicated, not re-run). */
  seenCount?: number;
  closedAt?: string;
  history: FindingHistoryEntry[];
}

/** The generation after `previous` at time `at`: never goes back, whatever was removed in between. */
export function nextGeneration(previous: number | undefined, at: Date): number {
  return Math.max((previous ?? 0) + 1, at.getTime());
}

export interface OpenResult {
  opened: boolean;
  generation: number;
  /** The finding as stored after the call (for a duplicate: the open finding it was deduplicated onto). */
  record: FindingRecord;
}

export interface FindingsStore {
  /**
   * Opens the finding unless it is open already (then only `lastSeenAt` moves): the dedupe
   * that makes a burst of identical events start one workflow.
   */
  open(finding: Finding, at: Date): Promise<OpenResult>;
  /**
   * Moves an open finding whose workflow ended without closing it to the next generation (a
   * new execution name), once: undefined when it is no longer open at `fromGeneration`
   * (closed meanwhile, or another caller restarted it first).
   */
  restart(id: string, fromGeneration: number, at: Date, reason: string): Promise<number | undefined>;
  /** The findings of a control that are not closed (the sweep's watchdog). */
  listOpen(control: ControlId): AsyncIterable<FindingRecord>;
  get(id: string): Promise<FindingRecord | undefined>;
  /** Records a step; `status: 'closed'` with an `outcome` ends the finding. */
  update(id: string, change: { status?: FindingStatus; outcome?: string; entry: FindingHistoryEntry }): Promise<void>;
  list(): AsyncIterable<FindingRecord>;
}

/**
 * `pending` until someone decides; `approved`/`rejected` once decided (delivered to the workflow
 * when `deliveredAt` is set); `expired` when nobody decided in time or the decision came after the
 * workflow had stopped waiting; `withdrawn` when the workflow ended another way (stopped, failed).
 */
export const APPROVAL_STATUSES = ['pending', 'approved', 'rejected', 'expired', 'withdrawn'] as const;
export type ApprovalStatus = (typeof APPROVAL_STATUSES)[number];
export type DecisionStatus = 'approved' | 'rejected';

export interface ApprovalRecord {
  /** Random (a UUID): whoever holds an id must not be able to guess another. */
  id: string;
  findingId: string;
  /** The workflow generation of the finding this approval belongs to. */
  generation: number;
  /** The Step Functions task token the decision resumes. */
  taskToken: string;
  finding: Finding;
  change: Change;
  createdAt: string;
  expiresAt: string;
  status: ApprovalStatus;
  decidedBy?: string;
  decidedAt?: string;
  /** When the workflow took the decision (SendTaskSuccess answered). */
  deliveredAt?: string;
  /** Why an approval ended without its decision reaching the workflow. */
  note?: string;
  /** Why this fix waits for a person (shown on the approval page). */
  reason?: string;
  /**
   * Who may decide, as the deployed policy said when the request was made: `rampart approvals`
   * runs on a laptop, and must check the guard's list, not a local file.
   */
  rules?: { approvers: ApprovalsPolicy['approvers']; allowSelfApproval: boolean };
}

export type DecideResult = { decided: ApprovalRecord } | { refused: 'not-found' | 'not-pending' };

export interface ApprovalStore {
  create(record: ApprovalRecord): Promise<void>;
  get(id: string): Promise<ApprovalRecord | undefined>;
  /** Pending → decided, once: a second decision (a replayed link, a double click) is refused. */
  decide(id: string, status: DecisionStatus, by: string, at: Date): Promise<DecideResult>;
  /** The workflow took the decision. */
  markDelivered(id: string, at: Date): Promise<void>;
  /** Undoes `by`'s decision that never reached the workflow (it still waits): pending again. */
  release(id: string, by: string): Promise<void>;
  /** Ends an approval whose decision did not, or will not, reach the workflow; a delivered one is left alone. */
  close(id: string, status: 'expired' | 'withdrawn', note: string, at: Date): Promise<void>;
  /** The approval of one workflow generation of a finding (ids are random: this is how the workflow finds its own). */
  idOf(findingId: string, generation: number): Promise<string | undefined>;
  /** Requests still waiting for a decision. */
  listPending(): Promise<ApprovalRecord[]>;
}

export class InMemoryFindingsStore implements FindingsStore {
  readonly records = new Map<string, FindingRecord>();

  async open(finding: Finding, at: Date): Promise<OpenResult> {
    const now = at.toISOString();
    const current = this.records.get(finding.id);
    if (current && current.status !== 'closed') {
      current.lastSeenAt = now;
      current.seenCount = (current.seenCount ?? 0) + 1;
      return { opened: false, generation: current.generation, record: structuredClone(current) };
    }
    const generation = nextGeneration(current?.generation, at);
    const record: FindingRecord = {
      id: finding.id,
      finding: structuredClone(finding),
      status: 'open',
      generation,
      openedAt: now,
      updatedAt: now,
      lastSeenAt: now,
      history: [{ at: now, event: 'detected', detail: finding.violation }],
    };
    this.records.set(finding.id, record);
    return { opened: true, generation, record: structuredClone(record) };
  }

  async restart(id: string, fromGeneration: number, at: Date, reason: string): Promise<number | undefined> {
    const record = this.records.get(id);
    if (!record || record.status === 'closed' || record.generation !== fromGeneration) return undefined;
    record.generation = nextGeneration(fromGeneration, at);
    record.updatedAt = at.toISOString();
    record.restartedAt = record.updatedAt;
    record.history.push({ at: record.updatedAt, event: 'restarted', detail: reason });
    return record.generation;
  }

  async *listOpen(control: ControlId): AsyncIterable<FindingRecord> {
    for (const record of this.records.values())
      if (record.status !== 'closed' && record.finding.control === control) yield structuredClone(record);
  }

  async get(id: string): Promise<FindingRecord | undefined> {
    const record = this.records.get(id);
    return record && structuredClone(record);
  }

  async update(id: string, change: { status?: FindingStatus; outcome?: string; entry: FindingHistoryEntry }): Promise<void> {
    const record = this.records.get(id);
    if (!record) throw new Error(`no finding ${id}`);
    record.history.push(change.entry);
    record.updatedAt = change.entry.at;
    if (change.status) record.status = change.status;
    if (change.outcome) record.outcome = change.outcome;
    if (change.status === 'closed') record.closedAt = change.entry.at;
  }

  async *list(): AsyncIterable<FindingRecord> {
    for (const record of this.records.values()) yield structuredClone(record);
  }
}

export class InMemoryApprovalStore implements ApprovalStore {
  readonly records = new Map<string, ApprovalRecord>();

  async create(record: ApprovalRecord): Promise<void> {
    if (this.records.has(record.id))
      throw Object.assign(new Error('The conditional request failed'), { name: 'ConditionalCheckFailedException' });
    this.records.set(record.id, structuredClone(record));
  }

  async get(id: string): Promise<ApprovalRecord | undefined> {
    const record = this.records.get(id);
    return record && structuredClone(record);
  }

  async decide(id: string, status: DecisionStatus, by: string, at: Date): Promise<DecideResult> {
    const record = this.records.get(id);
    if (!record) return { refused: 'not-found' };
    if (record.status !== 'pending') return { refused: 'not-pending' };
    Object.assign(record, { status, decidedBy: by, decidedAt: at.toISOString() });
    return { decided: structuredClone(record) };
  }

  async markDelivered(id: string, at: Date): Promise<void> {
    const record = this.records.get(id);
    if (record) record.deliveredAt = at.toISOString();
  }

  async release(id: string, by: string): Promise<void> {
    const record = this.records.get(id);
    if (!record || record.deliveredAt || record.decidedBy !== by || (record.status !== 'approved' && record.status !== 'rejected')) return;
    record.status = 'pending';
    delete record.decidedBy;
    delete record.decidedAt;
  }

  async close(id: string, status: 'expired' | 'withdrawn', note: string, at: Date): Promise<void> {
    const record = this.records.get(id);
    if (!record || record.deliveredAt) return;
    Object.assign(record, { status, note, ...(record.decidedAt ? {} : { decidedAt: at.toISOString() }) });
  }

  async idOf(findingId: string, generation: number): Promise<string | undefined> {
    return [...this.records.values()].find((r) => r.findingId === findingId && r.generation === generation)?.id;
  }

  async listPending(): Promise<ApprovalRecord[]> {
    return [...this.records.values()].filter((r) => r.status === 'pending').map((r) => structuredClone(r));
  }
}
