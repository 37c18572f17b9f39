import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { sdk } from './sdk';
import type { ControlId } from './controls';
import type { Finding } from './finding';
import { refundBudget, spendBudget, type BudgetSpend, type FixBudget, type FixLedger } from './fix-budget';
import type { LastKnownGoodStore } from './last-known-good';
import { keyText, type ResourceKey } from './resource-key';
import {
  nextGeneration,
  type ApprovalRecord,
  type ApprovalStore,
  type DecideResult,
  type DecisionStatus,
  type FindingHistoryEntry,
  type FindingRecord,
  type FindingStatus,
  type FindingsStore,
  type OpenResult,
} from './stores';

/**
 * The guard's state in one DynamoDB table (`pk`, `sk`; TTL attribute `ttl`; sparse GSI
 * `pending` on `pendingApproval`):
 * - `FINDING#<id>` / `STATE`: a finding, its status and history
 * - `APPROVAL#<id>` / `STATE`: an approval request and its task token (`id` random)
 * - `APPROVAL#<findingId>#<generation>` / `OF`: which approval a workflow generation waits for
 * - `LKG#<account>#<control>#<arn>` / `STATE`: the last state seen compliant
 * - `FIXES#<account>#<control>#<arn>` / `BUDGET`: the fix times in the budget window, and a version
 * The account is the resource's (`''` when nothing says: `LKG##<control>#<arn>`), after the
 * kind, so the `dynamodb:LeadingKeys` grants on `<kind>#*` still hold. Items of the earlier
 * keys without an account (`LKG#<control>#<arn>`) are never read again; they expire by TTL.
 */
export const TABLE_KEYS = {
  partitionKey: 'pk',
  sortKey: 'sk',
  ttl: 'ttl',
  pendingIndex: 'pending',
  pendingAttribute: 'pendingApproval',
} as const;

const STATE = 'STATE';
const BUDGET = 'BUDGET';
const DAY_SECONDS = 86_400;
const epochSeconds = (d: Date) => Math.floor(d.getTime() / 1000);

export function documentClient(client: DynamoDBClient): DynamoDBDocumentClient {
  return sdk.dynamodbDocument.DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}

function isConditionFailure(error: unknown): boolean {
  return (error as { name?: string })?.name === 'ConditionalCheckFailedException';
}

export class DynamoFindingsStore implements FindingsStore {
  /** @param retentionDays closed findings expire (TTL) this long after closing */
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly retentionDays = 90,
  ) {}

  private key(id: string) {
    return { pk: `FINDING#${id}`, sk: STATE };
  }

  async open(finding: Finding, at: Date): Promise<OpenResult> {
    const now = at.toISOString();
    // the generation of a closed record that the clock has not passed yet (read on a second try)
    let floor: number | undefined;
    for (let attempt = 0; attempt < 3; attempt++) {
      const generation = nextGeneration(floor, at);
      try {
        const out = await this.db.send(
          new sdk.dynamodbDocument.UpdateCommand({
            TableName: this.table,
            Key: this.key(finding.id),
            // a closed (or never seen, or expired) finding re-opens; an open one is left to its
            // workflow. The generation is the opening time: it never goes back, even after TTL
            // removed the record, so execution names and approval ids are never reused.
            ConditionExpression: 'attribute_not_exists(pk) OR (#status = :closed AND generation < :generation)',
            UpdateExpression:
              'SET #status = :open, finding = :finding, control = :control, resourceArn = :arn, openedAt = :now, updatedAt = :now, lastSeenAt = :now, ' +
              'generation = :generation, history = :history, seenCount = :zero REMOVE outcome, closedAt, restartedAt, #ttl',
            ExpressionAttributeNames: { '#status': 'status', '#ttl': TABLE_KEYS.ttl },
            ExpressionAttributeValues: {
              ':open': 'open',
              ':closed': 'closed',
              ':finding': finding,
              ':control': finding.control,
              ':arn': finding.resourceArn,
              ':now': now,
              ':zero': 0,
              ':generation': generation,
              ':history': [{ at: now, event: 'detected', detail: finding.violation }],
            },
            ReturnValues: 'ALL_NEW',
          }),
        );
        return { opened: true, generation, record: toFindingRecord(out.Attributes ?? {}) };
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
      }
      try {
        const out = await this.db.send(
          new sdk.dynamodbDocument.UpdateCommand({
            TableName: this.table,
            Key: this.key(finding.id),
            ConditionExpression: 'attribute_exists(pk) AND #status <> :closed',
            UpdateExpression: 'SET lastSeenAt = :now, seenCount = if_not_exists(seenCount, :zero) + :one',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: { ':now': now, ':zero': 0, ':one': 1, ':closed': 'closed' },
            ReturnValues: 'ALL_NEW',
          }),
        );
        const record = toFindingRecord(out.Attributes ?? {});
        return { opened: false, generation: record.generation, record };
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
      }
      // neither open nor re-openable: closed with a generation the clock has not passed, or
      // closed/removed between the two calls. Read it and try again above it.
      floor = (await this.get(finding.id))?.generation;
    }
    throw new Error(`finding ${finding.id}: neither opened nor found open after 3 tries`);
  }

  async restart(id: string, fromGeneration: number, at: Date, reason: string): Promise<number | undefined> {
    const now = at.toISOString();
    const generation = nextGeneration(fromGeneration, at);
    try {
      await this.db.send(
        new sdk.dynamodbDocument.UpdateCommand({
          TableName: this.table,
          Key: this.key(id),
          ConditionExpression: 'attribute_exists(pk) AND #status <> :closed AND generation = :from',
          UpdateExpression: 'SET generation = :generation, restartedAt = :now, updatedAt = :now, history = list_append(history, :entry)',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':closed': 'closed',
            ':from': fromGeneration,
            ':generation': generation,
            ':now': now,
            ':entry': [{ at: now, event: 'restarted', detail: reason }],
          },
        }),
      );
      return generation;
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      return undefined;
    }
  }

  async *listOpen(control: ControlId): AsyncIterable<FindingRecord> {
    const pages = sdk.dynamodbDocument.paginateScan(
      { client: this.db },
      {
        TableName: this.table,
        FilterExpression: 'begins_with(pk, :prefix) AND #status <> :closed AND control = :control',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':prefix': 'FINDING#', ':closed': 'closed', ':control': control },
      },
    );
    for await (const page of pages) for (const item of page.Items ?? []) yield toFindingRecord(item);
  }

  async get(id: string): Promise<FindingRecord | undefined> {
    const out = await this.db.send(new sdk.dynamodbDocument.GetCommand({ TableName: this.table, Key: this.key(id), ConsistentRead: true }));
    return out.Item ? toFindingRecord(out.Item) : undefined;
  }

  async update(id: string, change: { status?: FindingStatus; outcome?: string; entry: FindingHistoryEntry }): Promise<void> {
    const sets = ['history = list_append(history, :entry)', 'updatedAt = :at'];
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = { ':entry': [change.entry], ':at': change.entry.at };
    if (change.status) {
      sets.push('#status = :status');
      names['#status'] = 'status';
      values[':status'] = change.status;
    }
    if (change.outcome) {
      sets.push('outcome = :outcome');
      values[':outcome'] = change.outcome;
    }
    if (change.status === 'closed') {
      sets.push('closedAt = :at', '#ttl = :ttl');
      names['#ttl'] = TABLE_KEYS.ttl;
      values[':ttl'] = epochSeconds(new Date(change.entry.at)) + this.retentionDays * DAY_SECONDS;
    }
    await this.db.send(
      new sdk.dynamodbDocument.UpdateCommand({
        TableName: this.table,
        Key: this.key(id),
        ConditionExpression: 'attribute_exists(pk)',
        UpdateExpression: `SET ${sets.join(', ')}`,
        ...(Object.keys(names).length > 0 ? { ExpressionAttributeNames: names } : {}),
        ExpressionAttributeValues: values,
      }),
    );
  }

  async *list(): AsyncIterable<FindingRecord> {
    const pages = sdk.dynamodbDocument.paginateScan(
      { client: this.db },
      { TableName: this.table, FilterExpression: 'begins_with(pk, :prefix)', ExpressionAttributeValues: { ':prefix': 'FINDING#' } },
    );
    for await (const page of pages) for (const item of page.Items ?? []) yield toFindingRecord(item);
  }
}

function toFindingRecord(item: Record<string, unknown>): FindingRecord {
  return {
    id: String(item.pk).slice('FINDING#'.length),
    finding: item.finding as Finding,
    status: item.status as FindingStatus,
    ...(item.outcome ? { outcome: String(item.outcome) } : {}),
    generation: Number(item.generation),
    openedAt: String(item.openedAt),
    ...(item.restartedAt ? { restartedAt: String(item.restartedAt) } : {}),
    updatedAt: String(item.updatedAt),
    lastSeenAt: String(item.lastSeenAt),
    ...(item.seenCount !== undefined ? { seenCount: Number(item.seenCount) } : {}),
    ...(item.closedAt ? { closedAt: String(item.closedAt) } : {}),
    history: (item.history as FindingHistoryEntry[]) ?? [],
  };
}

export class DynamoApprovalStore implements ApprovalStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  private key(id: string) {
    return { pk: `APPROVAL#${id}`, sk: STATE };
  }

  async create(record: ApprovalRecord): Promise<void> {
    // the record outlives its link by a month, for the audit trail
    const ttl = epochSeconds(new Date(record.expiresAt)) + 30 * DAY_SECONDS;
    await this.db.send(
      new sdk.dynamodbDocument.PutCommand({
        TableName: this.table,
        Item: { ...this.key(record.id), ...record, [TABLE_KEYS.pendingAttribute]: 'PENDING', [TABLE_KEYS.ttl]: ttl },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
    // after the record: a pointer never names an approval that does not exist
    await this.db.send(
      new sdk.dynamodbDocument.PutCommand({
        TableName: this.table,
        Item: { pk: `APPROVAL#${record.findingId}#${record.generation}`, sk: 'OF', approvalId: record.id, [TABLE_KEYS.ttl]: ttl },
      }),
    );
  }

  async get(id: string): Promise<ApprovalRecord | undefined> {
    const out = await this.db.send(new sdk.dynamodbDocument.GetCommand({ TableName: this.table, Key: this.key(id), ConsistentRead: true }));
    return out.Item ? toApproval(out.Item) : undefined;
  }

  async decide(id: string, status: DecisionStatus, by: string, at: Date): Promise<DecideResult> {
    try {
      const out = await this.db.send(
        new sdk.dynamodbDocument.UpdateCommand({
          TableName: this.table,
          Key: this.key(id),
          // stays in the pending index until the workflow has it: an undelivered decision is still open
          ConditionExpression: '#status = :pending',
          UpdateExpression: 'SET #status = :status, decidedBy = :by, decidedAt = :at',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':pending': 'pending', ':status': status, ':by': by, ':at': at.toISOString() },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return { decided: toApproval(out.Attributes ?? {}) };
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      return { refused: (await this.get(id)) ? 'not-pending' : 'not-found' };
    }
  }

  async markDelivered(id: string, at: Date): Promise<void> {
    await this.db.send(
      new sdk.dynamodbDocument.UpdateCommand({
        TableName: this.table,
        Key: this.key(id),
        ConditionExpression: 'attribute_exists(pk)',
        UpdateExpression: `SET deliveredAt = :at REMOVE ${TABLE_KEYS.pendingAttribute}`,
        ExpressionAttributeValues: { ':at': at.toISOString() },
      }),
    );
  }

  async release(id: string, by: string): Promise<void> {
    await this.conditionally(
      new sdk.dynamodbDocument.UpdateCommand({
        TableName: this.table,
        Key: this.key(id),
        ConditionExpression: 'decidedBy = :by AND attribute_not_exists(deliveredAt) AND #status IN (:approved, :rejected)',
        UpdateExpression: 'SET #status = :pending REMOVE decidedBy, decidedAt',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':by': by, ':approved': 'approved', ':rejected': 'rejected', ':pending': 'pending' },
      }),
    );
  }

  async close(id: string, status: 'expired' | 'withdrawn', note: string, at: Date): Promise<void> {
    await this.conditionally(
      new sdk.dynamodbDocument.UpdateCommand({
        TableName: this.table,
        Key: this.key(id),
        ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(deliveredAt)',
        UpdateExpression: `SET #status = :status, note = :note, decidedAt = if_not_exists(decidedAt, :at) REMOVE ${TABLE_KEYS.pendingAttribute}`,
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':status': status, ':note': note, ':at': at.toISOString() },
      }),
    );
  }

  async idOf(findingId: string, generation: number): Promise<string | undefined> {
    const out = await this.db.send(
      new sdk.dynamodbDocument.GetCommand({
        TableName: this.table,
        Key: { pk: `APPROVAL#${findingId}#${generation}`, sk: 'OF' },
        ConsistentRead: true,
      }),
    );
    return typeof out.Item?.approvalId === 'string' ? out.Item.approvalId : undefined;
  }

  async listPending(): Promise<ApprovalRecord[]> {
    const out = await this.db.send(
      new sdk.dynamodbDocument.QueryCommand({
        TableName: this.table,
        IndexName: TABLE_KEYS.pendingIndex,
        KeyConditionExpression: `${TABLE_KEYS.pendingAttribute} = :pending`,
        ExpressionAttributeValues: { ':pending': 'PENDING' },
      }),
    );
    return (out.Items ?? []).map(toApproval).filter((a) => a.status === 'pending');
  }

  /** A write whose condition failing means "nothing to do" (already delivered, already closed). */
  private async conditionally(command: InstanceType<typeof sdk.dynamodbDocument.UpdateCommand>): Promise<void> {
    try {
      await this.db.send(command);
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }
}

function toApproval(item: Record<string, unknown>): ApprovalRecord {
  const { pk: _pk, sk: _sk, [TABLE_KEYS.ttl]: _ttl, [TABLE_KEYS.pendingAttribute]: _pending, ...rest } = item;
  return rest as unknown as ApprovalRecord;
}

export class DynamoLastKnownGood implements LastKnownGoodStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async get(key: ResourceKey): Promise<unknown | undefined> {
    const out = await this.db.send(
      new sdk.dynamodbDocument.GetCommand({ TableName: this.table, Key: { pk: `LKG#${keyText(key)}`, sk: STATE } }),
    );
    return out.Item?.state;
  }

  async put(key: ResourceKey, state: unknown, seenAt: Date): Promise<void> {
    try {
      await this.db.send(
        new sdk.dynamodbDocument.PutCommand({
          TableName: this.table,
          Item: { pk: `LKG#${keyText(key)}`, sk: STATE, state, seenAt: seenAt.toISOString() },
          // events arrive out of order: an older observation never replaces a newer one
          ConditionExpression: 'attribute_not_exists(pk) OR seenAt <= :seenAt',
          ExpressionAttributeValues: { ':seenAt': seenAt.toISOString() },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }
}

/** Conflicting writers (racing applies of one resource) a budget update outlasts before giving up. */
const BUDGET_ATTEMPTS = 8;

/**
 * The fix budget of one resource is one item, `FIXES#<account>#<control>#<arn>` / `BUDGET`: the fix times
 * in the window and a version. Each fix is one conditional update on the version it read, so
 * the check and the count are one atomic step: of two racing applies with one fix left, the
 * second's condition fails, it reads again and finds the budget spent.
 */
export class DynamoFixLedger implements FixLedger {
  /** @param keepSeconds how long a fix is remembered (at least the budget window) */
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly keepSeconds = DAY_SECONDS,
  ) {}

  private key(key: ResourceKey) {
    return { pk: `FIXES#${keyText(key)}`, sk: BUDGET };
  }

  private async read(key: ResourceKey): Promise<{ times: string[]; version: number }> {
    const out = await this.db.send(
      new sdk.dynamodbDocument.GetCommand({ TableName: this.table, Key: this.key(key), ConsistentRead: true }),
    );
    return { times: (out.Item?.fixes as string[] | undefined) ?? [], version: Number(out.Item?.version ?? 0) };
  }

  /** Writes `times` if the item is still at `version`; false when another writer came first. */
  private async write(key: ResourceKey, times: string[], version: number, at: Date): Promise<boolean> {
    try {
      await this.db.send(
        new sdk.dynamodbDocument.UpdateCommand({
          TableName: this.table,
          Key: this.key(key),
          ConditionExpression: version === 0 ? 'attribute_not_exists(pk)' : 'version = :version',
          UpdateExpression: 'SET fixes = :fixes, version = :next, #ttl = :ttl',
          ExpressionAttributeNames: { '#ttl': TABLE_KEYS.ttl },
          ExpressionAttributeValues: {
            ':fixes': times,
            ':next': version + 1,
            ':ttl': epochSeconds(at) + this.keepSeconds,
            ...(version === 0 ? {} : { ':version': version }),
          },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async fixesSince(key: ResourceKey, since: Date): Promise<number> {
    const { times } = await this.read(key);
    return times.filter((t) => t >= since.toISOString()).length;
  }

  async spend(key: ResourceKey, at: Date, budget: FixBudget): Promise<BudgetSpend> {
    for (let attempt = 0; attempt < BUDGET_ATTEMPTS; attempt++) {
      const current = await this.read(key);
      const { times, ...spent } = spendBudget(current.times, at, budget);
      if (!spent.granted) return spent;
      if (await this.write(key, times, current.version, at)) return spent;
    }
    throw new Error(
      `fix budget of ${key.resourceArn} (account ${key.account || 'unknown'}): ${BUDGET_ATTEMPTS} conflicting updates in a row`,
    );
  }

  async refund(key: ResourceKey, at: Date): Promise<void> {
    for (let attempt = 0; attempt < BUDGET_ATTEMPTS; attempt++) {
      const current = await this.read(key);
      if (!current.times.includes(at.toISOString())) return;
      if (await this.write(key, refundBudget(current.times, at), current.version, at)) return;
    }
    throw new Error(
      `fix budget of ${key.resourceArn} (account ${key.account || 'unknown'}): ${BUDGET_ATTEMPTS} conflicting updates in a row`,
    );
  }
}
