import type { ControlId } from './controls';

/**
 * The last state of a resource seen compliant (by replay, the sweep or a verify), so a fix can
 * restore what the resource had rather than a generic policy value.
 */
export interface LastKnownGoodStore {
  get(control: ControlId, resourceArn: string): Promise<unknown | undefined>;
  put(control: ControlId, resourceArn: string, state: unknown, seenAt: Date): Promise<void>;
}

/** In-process store: the CLI and tests. The deployed guard uses the DynamoDB one. */
export class InMemoryLastKnownGood implements LastKnownGoodStore {
  private readonly states = new Map<string, { state: unknown; seenAt: Date }>();

  async get(control: ControlId, resourceArn: string): Promise<unknown | undefined> {
    return this.states.get(`${control} ${resourceArn}`)?.state;
  }

  async put(control: ControlId, resourceArn: string, state: unknown, seenAt: Date): Promise<void> {
    const key = `${control} ${resourceArn}`;
    const current = this.states.get(key);
    // events arrive out of order: an older observation never replaces a newer one
    if (current && current.seenAt > seenAt) return;
    this.states.set(key, { state: structuredClone(state), seenAt });
  }
}
