import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { mockClient } from 'aws-sdk-client-mock';
import type { Finding } from '../../core/finding';
import { resourceKey } from '../../core/resource-key';
import { documentClient, DynamoApprovalStore, DynamoFindingsStore, DynamoFixLedger, DynamoLastKnownGood } from '../../core/dynamo-stores';
import { loadPolicyFile } from '../../controls/policy';
import { ITEM_KINDS, TABLE_ACTIONS, TABLE_ITEM_KINDS } from '../../infra/grants';
import { RampartStack } from '../../infra/stack';

const ROOT = join(__dirname, '../..');
type Role = keyof typeof TABLE_ACTIONS;

const finding = { id: 'f-1', control: 's3-default-encryption', resourceArn: 'arn:aws:s3:::b', violation: 'v' } as unknown as Finding;
const at = new Date('2026-11-30T10:00:00Z');
// the account goes after the kind (`LKG#<account>#...`): the `<kind>#*` conditions still hold
const KEY = resourceKey('s3-default-encryption', { arn: 'arn:aws:s3:::b', account: '111122223333' });
const drain = async (items: AsyncIterable<unknown>) => {
  for await (const _ of items) void _;
};

/** The store calls each function makes, as its handler makes them (handlers/*.ts, remediators/remediate.ts). */
const CALLS: Record<
  Role,
  (s: {
    findings: DynamoFindingsStore;
    approvals: DynamoApprovalStore;
    lkg: DynamoLastKnownGood;
    fixes: DynamoFixLedger;
  }) => Promise<unknown>[]
> = {
  detector: (s) => [s.findings.open(finding, at), s.findings.get('f-1'), s.findings.restart('f-1', 1, at, 'ended'), s.lkg.put(KEY, {}, at)],
  sweep: (s) => [
    s.findings.open(finding, at),
    s.findings.restart('f-1', 1, at, 'ended'),
    drain(s.findings.listOpen('s3-default-encryption')),
    s.lkg.put(KEY, {}, at),
  ],
  plan: (s) => [s.lkg.get(KEY), s.lkg.put(KEY, {}, at), s.fixes.fixesSince(KEY, at)],
  apply: (s) => [
    s.lkg.get(KEY),
    s.fixes.fixesSince(KEY, at),
    s.fixes.spend(KEY, at, { maxFixes: 3, windowMinutes: 60 } as never),
    s.fixes.refund(KEY, at),
    s.findings.update('f-1', { entry: { at: at.toISOString(), event: 'applied' } }),
  ],
  verify: (s) => [s.lkg.put(KEY, {}, at)],
  // expireApproval: the pointer of the finding's generation, then the approval, closed
  notify: (s) => [
    s.findings.get('f-1'),
    s.findings.update('f-1', { entry: { at: at.toISOString(), event: 'notified' } }),
    s.approvals.idOf('f-1', 1),
    s.approvals.get('a-1'),
    s.approvals.close('a-1', 'expired', 'timeout', at),
  ],
  requestApproval: (s) => [
    s.approvals.create({
      id: 'a-1',
      findingId: 'f-1',
      generation: 1,
      taskToken: 't',
      finding,
      change: {} as never,
      createdAt: at.toISOString(),
      expiresAt: at.toISOString(),
      status: 'pending',
    } as never),
    s.findings.update('f-1', { status: 'awaiting-approval', entry: { at: at.toISOString(), event: 'approval-requested' } }),
  ],
  // decideApproval: read, decide once, mark delivered (or close a late one, release an undelivered one), record on the finding
  approvalCallback: (s) => [
    s.approvals.get('a-1'),
    s.approvals.decide('a-1', 'approved', 'alice', at),
    s.approvals.markDelivered('a-1', at),
    s.approvals.close('a-1', 'expired', 'late', at),
    s.approvals.release('a-1', 'alice'),
    s.findings.update('f-1', { entry: { at: at.toISOString(), event: 'approved' } }),
  ],
};

describe('table grants', () => {
  it.each(Object.keys(CALLS) as Role[])('%s: its calls are the granted actions on items of its granted kinds', async (role) => {
    const db = mockClient(DynamoDBDocumentClient);
    db.on(UpdateCommand).resolves({ Attributes: { generation: 1, pk: 'x', version: 2 } });
    db.on(GetCommand).resolves({ Item: { pk: 'x', times: [], version: 1 } });
    db.on(PutCommand).resolves({});
    db.on(QueryCommand).resolves({ Count: 0 });
    db.on(ScanCommand).resolves({ Items: [] });
    const client = documentClient(new DynamoDBClient({ region: 'eu-west-1' }));
    const stores = {
      findings: new DynamoFindingsStore(client, 't'),
      approvals: new DynamoApprovalStore(client, 't'),
      lkg: new DynamoLastKnownGood(client, 't'),
      fixes: new DynamoFixLedger(client, 't'),
    };
    await Promise.all(CALLS[role](stores));
    const calls = db.calls().map((c) => {
      const input = c.args[0].input as { Key?: { pk: string }; Item?: { pk: string }; ExpressionAttributeValues?: Record<string, unknown> };
      const pk = input.Key?.pk ?? input.Item?.pk ?? input.ExpressionAttributeValues?.[':pk'];
      // the document client's commands are the table's: Get/Put/Update/Query + Item
      const action = `dynamodb:${c.args[0].constructor.name.replace(/Command$/, '').replace(/^(Get|Put|Update|Delete)$/, '$1Item')}`;
      return { action, pk: String(pk) };
    });
    expect(calls.length).toBeGreaterThan(0);
    for (const { action, pk } of calls) {
      expect(TABLE_ACTIONS[role]).toContain(action);
      // a Scan names no partition key (the watchdog filters on FINDING# itself)
      if (action !== 'dynamodb:Scan')
        expect(`${action} ${pk}: ${TABLE_ITEM_KINDS[role].some((kind) => pk.startsWith(`${kind}#`))}`).toMatch(/: true$/);
    }
    db.restore();
  });

  it('know every kind of item the key design has', () => {
    const source = readFileSync(join(ROOT, 'core/dynamo-stores.ts'), 'utf8');
    const prefixes = new Set([...source.matchAll(/pk: `([A-Z]+)#/g)].map((m) => m[1]));
    expect(prefixes.size).toBeGreaterThan(0);
    expect([...prefixes].sort()).toEqual([...ITEM_KINDS].sort());
  });

  it('are limited by dynamodb:LeadingKeys to those kinds in the synthesized template', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const resources = Template.fromStack(
      new RampartStack(app, 'Rampart', { policy: loadPolicyFile(join(ROOT, 'examples/rampart.config.yaml')) }),
    ).toJSON().Resources as Record<
      string,
      {
        Type: string;
        Properties: {
          PolicyDocument?: { Statement: Array<{ Action: string | string[]; Condition?: Record<string, Record<string, string[]>> }> };
        };
      }
    >;
    const tableStatements = Object.values(resources)
      .filter((r) => r.Type === 'AWS::IAM::Policy' || r.Type === 'AWS::IAM::ManagedPolicy')
      .flatMap((r) => r.Properties.PolicyDocument!.Statement)
      .filter((s) => ([] as string[]).concat(s.Action).some((a) => a.startsWith('dynamodb:')));
    expect(tableStatements.length).toBeGreaterThanOrEqual(8);
    for (const s of tableStatements) {
      const keys = s.Condition?.['ForAllValues:StringLike']?.['dynamodb:LeadingKeys'];
      expect(keys).toBeDefined();
      for (const k of keys!) expect(ITEM_KINDS.map((kind) => `${kind}#*`)).toContain(k);
      expect(keys!.length).toBeLessThan(ITEM_KINDS.length);
    }
  });
});
