import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { documentClient, DynamoApprovalStore, DynamoFindingsStore, DynamoFixLedger, DynamoLastKnownGood } from '../../core/dynamo-stores';
import type { Finding } from '../../core/finding';
import { resourceKey, UNKNOWN_ACCOUNT } from '../../core/resource-key';

const FINDING: Finding = {
  id: 'f1',
  control: 's3-default-encryption',
  severity: 'medium',
  resourceArn: 'arn:aws:s3:::b',
  resourceType: 'AWS::S3::Bucket',
  observed: {},
  desired: {},
  violation: 'bad',
  eventId: 'e1',
};
const AT = new Date('2024-06-03T16:00:00Z');
const conditionFailed = () => new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });

describe('DynamoDB stores', () => {
  const ddb = mockClient(DynamoDBDocumentClient);
  const db = documentClient(new DynamoDBClient({ region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } }));
  beforeEach(() => ddb.reset());
  afterAll(() => ddb.restore());

  it('opens a finding with a conditional update that only a closed or new finding passes, its generation the opening time', async () => {
    ddb.on(UpdateCommand).callsFake((input: { ExpressionAttributeValues: Record<string, unknown> }) => ({
      Attributes: { pk: 'FINDING#f1', status: 'open', generation: input.ExpressionAttributeValues[':generation'], finding: FINDING },
    }));

    expect(await new DynamoFindingsStore(db, 'tbl').open(FINDING, AT)).toMatchObject({ opened: true, generation: AT.getTime() });
    expect(ddb).toHaveReceivedCommandWith(UpdateCommand, {
      TableName: 'tbl',
      Key: { pk: 'FINDING#f1', sk: 'STATE' },
      ConditionExpression: 'attribute_not_exists(pk) OR (#status = :closed AND generation < :generation)',
    });
  });

  it('never reuses a generation after TTL removed the closed record (execution names and approval ids stay unique)', async () => {
    // generation 1 closed, expired and removed; the finding comes back a day later
    ddb.on(UpdateCommand).callsFake((input: { ExpressionAttributeValues: Record<string, unknown> }) => ({
      Attributes: { generation: input.ExpressionAttributeValues[':generation'] },
    }));
    const { generation } = await new DynamoFindingsStore(db, 'tbl').open(FINDING, new Date(AT.getTime() + 86_400_000));

    expect(generation).toBeGreaterThan(AT.getTime());
  });

  it('opens above a closed generation the clock has not passed', async () => {
    const future = AT.getTime() + 5;
    ddb
      .on(UpdateCommand)
      .rejectsOnce(conditionFailed())
      .rejectsOnce(conditionFailed())
      .callsFake((input: { ExpressionAttributeValues: Record<string, unknown> }) => ({
        Attributes: { generation: input.ExpressionAttributeValues[':generation'] },
      }));
    ddb.on(GetCommand).resolves({ Item: { pk: 'FINDING#f1', status: 'closed', generation: future, finding: FINDING } });

    expect(await new DynamoFindingsStore(db, 'tbl').open(FINDING, AT)).toMatchObject({ opened: true, generation: future + 1 });
  });

  it('only counts the event when the finding is open already, and returns the open finding', async () => {
    ddb
      .on(UpdateCommand)
      .rejectsOnce(conditionFailed())
      .resolves({
        Attributes: { pk: 'FINDING#f1', status: 'open', generation: 7, finding: FINDING, openedAt: AT.toISOString(), history: [] },
      });

    expect(await new DynamoFindingsStore(db, 'tbl').open(FINDING, AT)).toMatchObject({
      opened: false,
      generation: 7,
      record: { id: 'f1', status: 'open', generation: 7 },
    });
    expect(ddb.commandCalls(UpdateCommand)[1]!.args[0].input).toMatchObject({
      ConditionExpression: 'attribute_exists(pk) AND #status <> :closed',
      UpdateExpression: 'SET lastSeenAt = :now, seenCount = if_not_exists(seenCount, :zero) + :one',
    });
  });

  it('restarts an open finding once, at the generation it was seen with', async () => {
    ddb.on(UpdateCommand).resolvesOnce({}).rejects(conditionFailed());
    const store = new DynamoFindingsStore(db, 'tbl');

    expect(await store.restart('f1', 7, AT, 'the workflow ended FAILED')).toBe(AT.getTime());
    expect(await store.restart('f1', 7, AT, 'the workflow ended FAILED')).toBeUndefined();
    expect(ddb).toHaveReceivedCommandWith(UpdateCommand, {
      ConditionExpression: 'attribute_exists(pk) AND #status <> :closed AND generation = :from',
      ExpressionAttributeValues: expect.objectContaining({ ':from': 7, ':generation': AT.getTime() }),
    });
  });

  it("lists a control's findings that are not closed (the sweep's watchdog)", async () => {
    ddb.on(ScanCommand).resolves({
      Items: [
        {
          pk: 'FINDING#f1',
          sk: 'STATE',
          finding: FINDING,
          status: 'awaiting-approval',
          generation: 3,
          openedAt: 'x',
          updatedAt: 'x',
          lastSeenAt: 'x',
          history: [],
        },
      ],
    });

    const records = [];
    for await (const r of new DynamoFindingsStore(db, 'tbl').listOpen('s3-default-encryption')) records.push(r);

    expect(records).toMatchObject([{ id: 'f1', status: 'awaiting-approval', generation: 3 }]);
    expect(ddb).toHaveReceivedCommandWith(ScanCommand, {
      FilterExpression: 'begins_with(pk, :prefix) AND #status <> :closed AND control = :control',
      ExpressionAttributeValues: { ':prefix': 'FINDING#', ':closed': 'closed', ':control': 's3-default-encryption' },
    });
  });

  it('closes a finding with an outcome and a TTL after the retention period', async () => {
    ddb.on(UpdateCommand).resolves({});

    await new DynamoFindingsStore(db, 'tbl', 30).update('f1', {
      status: 'closed',
      outcome: 'remediated',
      entry: { at: AT.toISOString(), event: 'remediated' },
    });

    expect(ddb).toHaveReceivedCommandWith(UpdateCommand, {
      UpdateExpression:
        'SET history = list_append(history, :entry), updatedAt = :at, #status = :status, outcome = :outcome, closedAt = :at, #ttl = :ttl',
      ExpressionAttributeValues: {
        ':entry': [{ at: AT.toISOString(), event: 'remediated' }],
        ':at': AT.toISOString(),
        ':status': 'closed',
        ':outcome': 'remediated',
        ':ttl': AT.getTime() / 1000 + 30 * 86400,
      },
    });
  });

  it('lists findings over every scan page', async () => {
    const item = (id: string) => ({
      pk: `FINDING#${id}`,
      sk: 'STATE',
      finding: FINDING,
      status: 'open',
      generation: 1,
      openedAt: 'x',
      updatedAt: 'x',
      lastSeenAt: 'x',
      history: [],
    });
    ddb
      .on(ScanCommand)
      .resolvesOnce({ Items: [item('a')], LastEvaluatedKey: { pk: 'FINDING#a', sk: 'STATE' } })
      .resolvesOnce({ Items: [item('b')] });

    const ids = [];
    for await (const r of new DynamoFindingsStore(db, 'tbl').list()) ids.push(r.id);

    expect(ids).toEqual(['a', 'b']);
  });

  it('decides an approval once: the second decision is refused as not pending', async () => {
    ddb
      .on(UpdateCommand)
      .resolvesOnce({ Attributes: { id: 'a1', status: 'approved', taskToken: 't' } })
      .rejects(conditionFailed());
    ddb.on(GetCommand).resolves({ Item: { pk: 'APPROVAL#a1', id: 'a1', status: 'approved' } });
    const store = new DynamoApprovalStore(db, 'tbl');

    expect(await store.decide('a1', 'approved', 'alice', AT)).toEqual({ decided: { id: 'a1', status: 'approved', taskToken: 't' } });
    expect(await store.decide('a1', 'rejected', 'bob', AT)).toEqual({ refused: 'not-pending' });
    // a decided request stays in the pending index until the workflow has its decision
    expect(ddb).toHaveReceivedCommandWith(UpdateCommand, {
      ConditionExpression: '#status = :pending',
      UpdateExpression: 'SET #status = :status, decidedBy = :by, decidedAt = :at',
    });
  });

  it('records an approval under its random id and a pointer from its finding generation', async () => {
    ddb.on(PutCommand).resolves({});
    ddb.on(GetCommand).resolves({ Item: { pk: 'APPROVAL#f1#2', sk: 'OF', approvalId: 'uuid-1' } });
    const store = new DynamoApprovalStore(db, 'tbl');
    const record = {
      id: 'uuid-1',
      findingId: 'f1',
      generation: 2,
      taskToken: 't',
      finding: FINDING,
      change: { service: 'apigateway', operation: 'UpdateStage', region: 'us-east-1', input: {} },
      createdAt: AT.toISOString(),
      expiresAt: AT.toISOString(),
      status: 'pending',
    } as const;

    await store.create(record);

    expect(ddb).toHaveReceivedNthCommandWith(1, PutCommand, {
      Item: expect.objectContaining({ pk: 'APPROVAL#uuid-1', sk: 'STATE', pendingApproval: 'PENDING' }),
      ConditionExpression: 'attribute_not_exists(pk)',
    });
    expect(ddb).toHaveReceivedNthCommandWith(2, PutCommand, {
      Item: expect.objectContaining({ pk: 'APPROVAL#f1#2', sk: 'OF', approvalId: 'uuid-1' }),
    });
    expect(await store.idOf('f1', 2)).toBe('uuid-1');
  });

  it('marks a decision delivered, undoes an undelivered one, and closes only what was not delivered', async () => {
    ddb.on(UpdateCommand).resolves({});
    const store = new DynamoApprovalStore(db, 'tbl');

    await store.markDelivered('a1', AT);
    await store.release('a1', 'alice');
    await store.close('a1', 'expired', 'no decision before the approval timeout', AT);

    const calls = ddb.commandCalls(UpdateCommand).map((c) => c.args[0].input);
    expect(calls[0]).toMatchObject({ UpdateExpression: 'SET deliveredAt = :at REMOVE pendingApproval' });
    expect(calls[1]).toMatchObject({
      ConditionExpression: 'decidedBy = :by AND attribute_not_exists(deliveredAt) AND #status IN (:approved, :rejected)',
      UpdateExpression: 'SET #status = :pending REMOVE decidedBy, decidedAt',
    });
    expect(calls[2]).toMatchObject({
      ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(deliveredAt)',
      ExpressionAttributeValues: expect.objectContaining({ ':status': 'expired' }),
    });
  });

  it('takes a failed condition on release and close as nothing to do', async () => {
    ddb.on(UpdateCommand).rejects(conditionFailed());
    const store = new DynamoApprovalStore(db, 'tbl');

    await expect(store.release('a1', 'alice')).resolves.toBeUndefined();
    await expect(store.close('a1', 'withdrawn', 'x', AT)).resolves.toBeUndefined();
  });

  it('lists pending approvals from the sparse index', async () => {
    ddb
      .on(QueryCommand)
      .resolves({ Items: [{ pk: 'APPROVAL#a1', sk: 'STATE', pendingApproval: 'PENDING', ttl: 1, id: 'a1', status: 'pending' }] });

    expect(await new DynamoApprovalStore(db, 'tbl').listPending()).toEqual([{ id: 'a1', status: 'pending' }]);
    ddb
      .on(QueryCommand)
      .resolves({ Items: [{ pk: 'APPROVAL#a2', sk: 'STATE', pendingApproval: 'PENDING', id: 'a2', status: 'approved' }] });
    expect(await new DynamoApprovalStore(db, 'tbl').listPending()).toEqual([]); // decided, on its way to the workflow
    expect(ddb).toHaveReceivedCommandWith(QueryCommand, { IndexName: 'pending', KeyConditionExpression: 'pendingApproval = :pending' });
  });

  it('keeps the newest last-known-good state when observations arrive out of order', async () => {
    ddb.on(PutCommand).rejects(conditionFailed());

    await expect(
      new DynamoLastKnownGood(db, 'tbl').put(
        resourceKey('apigateway-waf', { arn: 'arn:x', account: '111122223333' }),
        { webAclArn: 'a' },
        AT,
      ),
    ).resolves.toBeUndefined();
    expect(ddb).toHaveReceivedCommandWith(PutCommand, { ConditionExpression: 'attribute_not_exists(pk) OR seenAt <= :seenAt' });
  });

  it('keys a last-known-good state by account, control and ARN, the account after the kind; an unknown account is empty', async () => {
    ddb.on(PutCommand).resolves({});
    ddb.on(GetCommand).resolves({});
    const store = new DynamoLastKnownGood(db, 'tbl');

    await store.put(resourceKey('s3-default-encryption', { arn: 'arn:aws:s3:::b', account: '111122223333' }), {}, AT);
    await store.put(resourceKey('s3-default-encryption', { arn: 'arn:aws:s3:::b' }), {}, AT);
    await store.get({ account: UNKNOWN_ACCOUNT, control: 's3-default-encryption', resourceArn: 'arn:aws:s3:::b' });

    expect(ddb.commandCalls(PutCommand).map((c) => c.args[0].input.Item?.pk)).toEqual([
      'LKG#111122223333#s3-default-encryption#arn:aws:s3:::b',
      'LKG##s3-default-encryption#arn:aws:s3:::b',
    ]);
    expect(ddb).toHaveReceivedCommandWith(GetCommand, { Key: { pk: 'LKG##s3-default-encryption#arn:aws:s3:::b', sk: 'STATE' } });
  });

  it('refuses an account that would shift the fields of a key', async () => {
    await expect(
      new DynamoLastKnownGood(db, 'tbl').get({ account: '1#s3-default-encryption', control: 'x', resourceArn: 'arn:aws:s3:::b' }),
    ).rejects.toThrow('not a store key');
    expect(ddb.calls()).toHaveLength(0);
  });

  describe('the fix ledger', () => {
    const BUDGET = { maxFixes: 3, windowMinutes: 60 };
    const ARN = 'arn:aws:s3:::b';
    const KEY = resourceKey('s3-default-encryption', { arn: ARN, account: '111122223333' });
    /** A stateful table behind the mock, for the two calls the ledger makes (and their conditions). */
    function statefulTable() {
      const items = new Map<string, Record<string, unknown>>();
      const keyOf = (k: { pk: string; sk: string }) => `${k.pk}|${k.sk}`;
      ddb.on(GetCommand).callsFake(async (input: { Key: { pk: string; sk: string } }) => {
        const item = items.get(keyOf(input.Key));
        return item ? { Item: structuredClone(item) } : {};
      });
      ddb
        .on(UpdateCommand)
        .callsFake(
          async (input: {
            Key: { pk: string; sk: string };
            ConditionExpression: string;
            ExpressionAttributeValues: Record<string, unknown>;
          }) => {
            const current = items.get(keyOf(input.Key));
            const v = input.ExpressionAttributeValues;
            const holds =
              input.ConditionExpression === 'attribute_not_exists(pk)'
                ? !current
                : input.ConditionExpression === 'version = :version'
                  ? current?.version === v[':version']
                  : undefined;
            if (holds === undefined) throw new Error(`fake table: unsupported condition ${input.ConditionExpression}`);
            if (!holds) throw conditionFailed();
            items.set(keyOf(input.Key), { ...input.Key, fixes: v[':fixes'], version: v[':next'], ttl: v[':ttl'] });
            return {};
          },
        );
      return items;
    }

    it('grants exactly one of two racing fixes when one is left', async () => {
      statefulTable();
      const ledger = new DynamoFixLedger(db, 'tbl');
      await ledger.spend(KEY, AT, BUDGET);
      await ledger.spend(KEY, new Date(AT.getTime() + 1000), BUDGET);

      const racing = await Promise.all([
        ledger.spend(KEY, new Date(AT.getTime() + 2000), BUDGET),
        new DynamoFixLedger(db, 'tbl').spend(KEY, new Date(AT.getTime() + 2000), BUDGET),
      ]);

      expect(racing.map((r) => r.granted).sort()).toEqual([false, true]);
      expect(await ledger.fixesSince(KEY, AT)).toBe(3);
      // the loser's conditional write failed, it read again and found the budget spent
      expect(ddb.commandCalls(UpdateCommand).length).toBe(4);
    });

    it('counts two fixes in the same millisecond twice, and gives back one that was not made', async () => {
      const items = statefulTable();
      const ledger = new DynamoFixLedger(db, 'tbl', 7200);

      await Promise.all([ledger.spend(KEY, AT, BUDGET), ledger.spend(KEY, AT, BUDGET)]);
      expect(await ledger.fixesSince(KEY, AT)).toBe(2);
      await ledger.refund(KEY, AT);

      expect(await ledger.fixesSince(KEY, AT)).toBe(1);
      expect(items.get(`FIXES#111122223333#s3-default-encryption#${ARN}|BUDGET`)).toMatchObject({
        fixes: [AT.toISOString()],
        version: 3,
        ttl: AT.getTime() / 1000 + 7200,
      });
    });

    it('refuses a fix once the window holds the budget, and grants again as fixes leave the window', async () => {
      statefulTable();
      const ledger = new DynamoFixLedger(db, 'tbl');
      const at = (minutes: number) => new Date(AT.getTime() + minutes * 60_000);
      for (const m of [0, 10, 20]) expect((await ledger.spend(KEY, at(m), BUDGET)).granted).toBe(true);

      expect(await ledger.spend(KEY, at(30), BUDGET)).toEqual({ granted: false, fixes: 3 });
      expect(await ledger.spend(KEY, at(61), BUDGET)).toEqual({ granted: true, fixes: 3 });
    });
  });
});
