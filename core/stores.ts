import type { Change } from './control';
import type { Finding } from './finding';

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
  /** Increments each time the finding re-opens; part of the workflow execution name. */
  generation: number;
  openedAt: string;
  updatedAt: string;
  lastSeenAt: string;
  /** Events that saw the open finding again (deduplicated, not re-run). */
  seenCount?: number;
  closedAt?: string;
  history: FindingHistoryEntry[];
}

export interface FindingsStore {
  /**
   * Opens the finding unless it is open already (then only `lastSeenAt` moves): the dedupe
   * that makes a burst of identical events start one workflow.
   */
  open(finding: Finding, at: Date): Promise<{ opened: boolean; generation: number }>;
  get(id: string): Promise<FindingRecord | undefined>;
  /** Records a step; `status: 'closed'` with an `outcome` ends the finding. */
  update(id: string, change: { status?: FindingStatus; outcome?: string; entry: FindingHistoryEntry }): Promise<void>;
  list(): AsyncIterable<FindingRecord>;
}

export const APPROVAL_STATUSES = ['pending', 'approved', 'rejected', 'expired'] as const;
export type ApprovalStatus = (typeof APPROVAL_STATUSES)[number];

export interface ApprovalRecord {
  id: string;
  findingId: string;
  /** The Step Functions task token the decision resumes. */
  taskToken: string;
  finding: Finding;
  change: Change;
  createdAt: string;
  expiresAt: string;
  status: ApprovalStatus;
  decidedBy?: string;
  decidedAt?: string;
}

export type DecideResult = { decided: ApprovalRecord } | { refused: 'not-found' | 'not-pending' };

export interface ApprovalStore {
  create(record: ApprovalRecord): Promise<void>;
  get(id: string): Promise<ApprovalRecord | undefined>;
  /** Pending → decided, once: a second decision (a replayed link, a double click) is refused. */
  decide(id: string, status: Exclude<ApprovalStatus, 'pending'>, by: string, at: Date): Promise<DecideResult>;
  listPending(): Promise<ApprovalRecord[]>;
}

export class InMemoryFindingsStore implements FindingsStore {
  readonly records = new Map<string, FindingRecord>();

  async open(finding: Finding, at: Date): Promise<{ opened: boolean; generation: number }> {
    const now = at.toISOString();
    const current = this.records.get(finding.id);
    if (current && current.status !== 'closed') {
      current.lastSeenAt = now;
      current.seenCount = (current.seenCount ?? 0) + 1;
      return { opened: false, generation: current.generation };
    }
    const generation = (current?.generation ?? 0) + 1;
    this.records.set(finding.id, {
      id: finding.id,
      finding: structuredClone(finding),
      status: 'open',
      generation,
      openedAt: now,
      updatedAt: now,
      lastSeenAt: now,
      history: [{ at: now, event: 'detected', detail: finding.violation }],
    });
    return { opened: true, generation };
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
    this.records.set(record.id, structuredClone(record));
  }

  async get(id: string): Promise<ApprovalRecord | undefined> {
    const record = this.records.get(id);
    return record && structuredClone(record);
  }

  async decide(id: string, status: Exclude<ApprovalStatus, 'pending'>, by: string, at: Date): Promise<DecideResult> {
    const record = this.records.get(id);
    if (!record) return { refused: 'not-found' };
    if (record.status !== 'pending') return { refused: 'not-pending' };
    Object.assign(record, { status, decidedBy: by, decidedAt: at.toISOString() });
    return { decided: structuredClone(record) };
  }

  async listPending(): Promise<ApprovalRecord[]> {
    return [...this.records.values()].filter((r) => r.status === 'pending').map((r) => structuredClone(r));
  }
}
