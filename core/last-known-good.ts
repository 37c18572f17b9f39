import { keyText, type ResourceKey } from './resource-key';

/**
 * The last state of a resource seen compliant (by replay, the sweep or a verify), so a fix can
 * restore what the resource had rather than a generic policy value. Kept by account, control and
 * ARN (`ResourceKey`): the same bucket name in two accounts has two restore points.
 */
export interface LastKnownGoodStore {
  get(key: ResourceKey): Promise<unknown | undefined>;
  put(key: ResourceKey, state: unknown, seenAt: Date): Promise<void>;
}

/** In-process store: the CLI and tests. The deployed guard uses the DynamoDB one. */
export class InMemoryLastKnownGood implements LastKnownGoodStore {
  private readonly states = new Map<string, { state: unknown; seenAt: Date }>();

  async get(key: ResourceKey): Promise<unknown | undefined> {
    return this.states.get(keyText(key))?.state;
  }

  async put(key: ResourceKey, state: unknown, seenAt: Date): Promise<void> {
    const current = this.states.get(keyText(key));
    // events arrive out of order: an older observation never replaces a newer one
    if (current && current.seenAt > seenAt) return;
    this.states.set(keyText(key), { state: structuredClone(state), seenAt });
  }
}
