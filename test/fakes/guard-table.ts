import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';

type Key = { pk: string; sk: string };
type Item = Key & Record<string, unknown>;

const conditionFailed = () => new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });

/**
 * The guard's table as far as the last-known-good store and the fix ledger use it
 * (core/dynamo-stores.ts), behind a mocked document client: items by `pk`/`sk`, and the
 * conditions those stores write. Any other condition or update is refused, so a store that
 * starts writing something else fails here rather than pass against a fake that ignores it.
 */
export class FakeGuardTable {
  readonly items = new Map<string, Item>();
  readonly mock = mockClient(DynamoDBDocumentClient);

  constructor() {
    const id = (k: Key) => `${k.pk}|${k.sk}`;
    this.mock.on(GetCommand).callsFake(async (input: { Key: Key }) => {
      const item = this.items.get(id(input.Key));
      return item ? { Item: structuredClone(item) } : {};
    });
    this.mock
      .on(PutCommand)
      .callsFake(async (input: { Item: Item; ConditionExpression?: string; ExpressionAttributeValues?: Record<string, unknown> }) => {
        const current = this.items.get(id(input.Item));
        if (input.ConditionExpression === 'attribute_not_exists(pk) OR seenAt <= :seenAt') {
          if (current && !(String(current.seenAt) <= String(input.ExpressionAttributeValues?.[':seenAt']))) throw conditionFailed();
        } else if (input.ConditionExpression !== undefined)
          throw new Error(`fake guard table: unsupported condition ${input.ConditionExpression}`);
        this.items.set(id(input.Item), structuredClone(input.Item));
        return {};
      });
    this.mock
      .on(UpdateCommand)
      .callsFake(
        async (input: {
          Key: Key;
          ConditionExpression: string;
          UpdateExpression: string;
          ExpressionAttributeValues: Record<string, unknown>;
        }) => {
          if (input.UpdateExpression !== 'SET fixes = :fixes, version = :next, #ttl = :ttl')
            throw new Error(`fake guard table: unsupported update ${input.UpdateExpression}`);
          const current = this.items.get(id(input.Key));
          const v = input.ExpressionAttributeValues;
          const holds =
            input.ConditionExpression === 'attribute_not_exists(pk)'
              ? !current
              : input.ConditionExpression === 'version = :version'
                ? current?.version === v[':version']
                : undefined;
          if (holds === undefined) throw new Error(`fake guard table: unsupported condition ${input.ConditionExpression}`);
          if (!holds) throw conditionFailed();
          this.items.set(id(input.Key), { ...input.Key, fixes: v[':fixes'], version: v[':next'], ttl: v[':ttl'] });
          return {};
        },
      );
  }

  /** The partition keys of the items whose key starts with `prefix`. */
  keys(prefix: string): string[] {
    return [...this.items.values()]
      .map((i) => i.pk)
      .filter((pk) => pk.startsWith(prefix))
      .sort();
  }

  restore(): void {
    this.mock.restore();
  }
}
