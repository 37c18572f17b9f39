import type { APIGatewayClient } from '@aws-sdk/client-api-gateway';
import type { KMSClient } from '@aws-sdk/client-kms';
import type { S3Client } from '@aws-sdk/client-s3';
import type { WAFV2Client } from '@aws-sdk/client-wafv2';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@aws-sdk/types';
import { sdk } from './sdk';

/**
 * The SDK clients the controls use, one per service and region, created on first use.
 * Detectors and remediators take this as a parameter and never build clients themselves, so
 * tests pass mocked clients and the CLI can point everything at an emulator.
 */
export interface AwsClients {
  s3(region?: string): S3Client;
  apiGateway(region: string): APIGatewayClient;
  wafv2(region: string): WAFV2Client;
  kms(region: string): KMSClient;
  /** The home region: where region-less calls (ListBuckets) go. */
  readonly region: string;
  /** Regions in which regional resources (API Gateway stages, usage plans) are listed. */
  readonly regions: readonly string[];
}

export interface AwsClientOptions {
  /** Home region; default `AWS_REGION`, else us-east-1. */
  region?: string;
  /** Regions to sweep for regional resources; default: the home region. */
  regions?: readonly string[];
  /** Endpoint override for an emulator (LocalStack, moto): every client talks to it. */
  endpoint?: string;
  credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  /** Attempts per call, including the first; the SDK's own retry strategy backs off on throttling and 5xx. */
  maxAttempts?: number;
}

/**
 * Creates the client set. Retries are the SDK's (adaptive mode: client-side rate limiting on
 * throttling errors), never hand-written.
 *
 * @example const clients = createAwsClients({ region: 'eu-west-1', endpoint: 'http://localhost:4566' })
 */
export function createAwsClients(options: AwsClientOptions = {}): AwsClients {
  const region = options.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1';
  const common = {
    endpoint: options.endpoint,
    credentials: options.credentials,
    maxAttempts: options.maxAttempts ?? 5,
    retryMode: 'adaptive' as const,
  };
  const cache = new Map<string, unknown>();
  function memo<T>(key: string, make: () => T): T {
    let client = cache.get(key) as T | undefined;
    if (!client) {
      client = make();
      cache.set(key, client);
    }
    return client;
  }
  return {
    region,
    regions: options.regions && options.regions.length > 0 ? options.regions : [region],
    // path-style addressing: emulators rarely resolve <bucket>.<host>
    s3: (r = region) => memo(`s3:${r}`, () => new sdk.s3.S3Client({ ...common, region: r, forcePathStyle: Boolean(options.endpoint) })),
    apiGateway: (r) => memo(`apigateway:${r}`, () => new sdk.apiGateway.APIGatewayClient({ ...common, region: r })),
    wafv2: (r) => memo(`wafv2:${r}`, () => new sdk.wafv2.WAFV2Client({ ...common, region: r })),
    kms: (r) => memo(`kms:${r}`, () => new sdk.kms.KMSClient({ ...common, region: r })),
  };
}
