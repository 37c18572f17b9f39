import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@aws-sdk/types';

/** Any SDK v3 client class: constructed from a config object. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type ClientClass<C> = new (config: any) => C;

/**
 * The SDK clients of one account, created on first use: one per client class and region.
 * Detectors and remediators take this as a parameter and never build clients themselves, so
 * tests pass mocked clients and the CLI can point everything at an emulator.
 *
 * @example clients.get(s3().S3Client, 'eu-west-1').send(new (s3().GetBucketEncryptionCommand)({ Bucket: 'logs' }))
 */
export interface AwsClients {
  /** The client of `Client` for `region` (default: the home region), memoised per class and region. */
  get<C>(Client: ClientClass<C>, region?: string): C;
  /** The account these clients act in, when known (the hub mode will hold several). */
  readonly account?: string;
  /** The home region: where region-less calls (ListBuckets) go. */
  readonly region: string;
  /** Regions in which regional resources (API Gateway stages, usage plans) are listed. */
  readonly regions: readonly string[];
}

/** Credentials for an account and region; `undefined` leaves them to the SDK's default chain. */
export type Credentials = AwsCredentialIdentity | AwsCredentialIdentityProvider;

/** The member roles, by what they are for: reading (detectors, sweep, plan, verify) and fixing (apply). */
export const MEMBER_ROLE_KINDS = ['read', 'remediate'] as const;
export type MemberRoleKind = (typeof MEMBER_ROLE_KINDS)[number];

/** Whose credentials: the account and region, and in a hub the member role and the session name to assume it with. */
export interface CredentialsScope {
  account?: string;
  region: string;
  /** Default `read`. */
  role?: MemberRoleKind;
  /** The role session name (shown in the member account's CloudTrail); default `rampart-<role>`. */
  session?: string;
}

/**
 * Where the credentials of an account come from: the default chain (the guard acts in its own
 * account), or in a hub the assumed member role (core/assume-role.ts).
 */
export interface CredentialsProvider {
  credentialsFor(scope: CredentialsScope): Credentials | undefined;
}

/** The SDK's default chain, or fixed credentials (tests, the CLI against an emulator). */
export function defaultCredentials(credentials?: Credentials): CredentialsProvider {
  return { credentialsFor: () => credentials };
}

export interface AwsClientOptions {
  /** Home region (the caller reads it from its environment: `AWS_REGION`); default us-east-1. */
  region?: string;
  /** Regions to sweep for regional resources; default: the home region. */
  regions?: readonly string[];
  /** Endpoint override for an emulator (LocalStack, moto): every client talks to it. */
  endpoint?: string;
  /** Fixed credentials; `credentialsProvider` wins when both are given. */
  credentials?: Credentials;
  credentialsProvider?: CredentialsProvider;
  /** Attempts per call, including the first; the SDK's own retry strategy backs off on throttling and 5xx. */
  maxAttempts?: number;
}

/** Makes the client sets of accounts; each set is built once per account, home region, role and session. */
export interface ClientFactory {
  clientsFor(scope: Partial<CredentialsScope>): AwsClients;
  /** The home region of the factory (the guard's own). */
  readonly region: string;
}

/**
 * The one client factory. Retries are the SDK's (adaptive mode: client-side rate limiting on
 * throttling errors), never hand-written.
 *
 * @example const clients = createClientFactory({ region: 'eu-west-1' }).clientsFor({ account: '111122223333' })
 */
export function createClientFactory(options: AwsClientOptions = {}): ClientFactory {
  const home = options.region ?? 'us-east-1';
  const regions = options.regions && options.regions.length > 0 ? options.regions : [home];
  const provider = options.credentialsProvider ?? defaultCredentials(options.credentials);
  const sets = new Map<string, AwsClients>();
  return {
    region: home,
    clientsFor({ account, region = home, role, session }) {
      const key = `${account ?? ''}:${region}:${role ?? ''}:${session ?? ''}`;
      let set = sets.get(key);
      if (!set) {
        set = clientSet({ account, region, role, session }, regions, provider, options);
        sets.set(key, set);
        // a session per finding adds up in a long-lived Lambda: the oldest sets go first
        if (sets.size > MAX_CLIENT_SETS) sets.delete(sets.keys().next().value!);
      }
      return set;
    },
  };
}

const MAX_CLIENT_SETS = 128;

function clientSet(
  scope: Omit<CredentialsScope, 'region'> & { region: string },
  regions: readonly string[],
  provider: CredentialsProvider,
  options: AwsClientOptions,
): AwsClients {
  const { account, region: home } = scope;
  const byClass = new Map<ClientClass<unknown>, Map<string, unknown>>();
  const get = <C>(Client: ClientClass<C>, region: string = home): C => {
    let byRegion = byClass.get(Client);
    if (!byRegion) byClass.set(Client, (byRegion = new Map()));
    let client = byRegion.get(region) as C | undefined;
    if (!client) {
      client = new Client({
        region,
        endpoint: options.endpoint,
        credentials: provider.credentialsFor({ ...scope, region }),
        maxAttempts: options.maxAttempts ?? 5,
        retryMode: 'adaptive',
        // the middleware stack resolved once per command class, not on every send: a tenth less
        // CPU per swept resource. It holds because nothing adds middleware to these clients or
        // sends with per-call options, and none of them follows S3 region redirects (one
        // bucket's redirect would then be kept in the context the calls of a class share)
        cacheMiddleware: true,
        // path-style addressing: emulators rarely resolve <bucket>.<host>; other clients ignore it
        ...(options.endpoint ? { forcePathStyle: true } : {}),
      });
      byRegion.set(region, client);
    }
    return client;
  };
  return {
    get,
    ...(account !== undefined ? { account } : {}),
    region: home,
    regions,
  };
}

/**
 * The client set of the guard's own account (the factory's default scope).
 *
 * @example const clients = createAwsClients({ region: 'eu-west-1', endpoint: 'http://localhost:4566' })
 */
export function createAwsClients(options: AwsClientOptions = {}): AwsClients {
  return createClientFactory(options).clientsFor({});
}
