/**
 * What the per-service fakes share: the log of writes (so a test sees what a fix really did)
 * and the page size of list calls (to exercise pagination).
 */
export class FakeWorld {
  readonly writes: string[] = [];
  /** Each write with the account whose credentials made it (the multi-account tests). */
  readonly accountWrites: Array<{ account: string; write: string }> = [];
  /** The account a client acts in, by its access key id; unlisted keys (the tests' `test`) act in the home account. */
  readonly accountOfKey = new Map<string, string>();
  homeAccount = '111122223333';

  /** The account of the credentials the calling client signs with (a mocked client's `config.credentials`). */
  async accountOf(getClient?: () => { config: { credentials: unknown } }): Promise<string> {
    const provider = getClient?.().config.credentials as (() => Promise<{ accessKeyId: string }>) | undefined;
    if (typeof provider !== 'function') return this.homeAccount;
    const { accessKeyId } = await provider();
    return this.accountOfKey.get(accessKeyId) ?? this.homeAccount;
  }
  /** Items per page of the list calls. */
  pageSize = 2;

  /** One page of `items` after the `token` position, and the next token. */
  page<T>(items: T[], token: string | undefined): { items: T[]; next?: string } {
    const start = token ? Number(token) : 0;
    const end = start + this.pageSize;
    return { items: items.slice(start, end), ...(end < items.length ? { next: String(end) } : {}) };
  }
}
