/**
 * What the per-service fakes share: the log of writes (so a test sees what a fix really did)
 * and the page size of list calls (to exercise pagination).
 */
export class FakeWorld {
  readonly writes: string[] = [];
  /** Items per page of the list calls. */
  pageSize = 2;

  /** One page of `items` after the `token` position, and the next token. */
  page<T>(items: T[], token: string | undefined): { items: T[]; next?: string } {
    const start = token ? Number(token) : 0;
    const end = start + this.pageSize;
    return { items: items.slice(start, end), ...(end < items.length ? { next: String(end) } : {}) };
  }
}
