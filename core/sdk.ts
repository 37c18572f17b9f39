/**
 * The AWS SDK v3 packages, loaded on first use. Each package's entry loads all of its commands
 * (about 100 ms per client at a cold start); a Lambda function loads only the clients its
 * control actually calls, and only when it calls them. Types come from `import type`.
 */
/* eslint-disable @typescript-eslint/no-require-imports */
export const sdk = {
  get s3(): typeof import('@aws-sdk/client-s3') {
    return require('@aws-sdk/client-s3');
  },
  get apiGateway(): typeof import('@aws-sdk/client-api-gateway') {
    return require('@aws-sdk/client-api-gateway');
  },
  get wafv2(): typeof import('@aws-sdk/client-wafv2') {
    return require('@aws-sdk/client-wafv2');
  },
  get kms(): typeof import('@aws-sdk/client-kms') {
    return require('@aws-sdk/client-kms');
  },
  get dynamodb(): typeof import('@aws-sdk/client-dynamodb') {
    return require('@aws-sdk/client-dynamodb');
  },
  get dynamodbDocument(): typeof import('@aws-sdk/lib-dynamodb') {
    return require('@aws-sdk/lib-dynamodb');
  },
  get sns(): typeof import('@aws-sdk/client-sns') {
    return require('@aws-sdk/client-sns');
  },
  get sfn(): typeof import('@aws-sdk/client-sfn') {
    return require('@aws-sdk/client-sfn');
  },
  get secretsManager(): typeof import('@aws-sdk/client-secrets-manager') {
    return require('@aws-sdk/client-secrets-manager');
  },
};

/**
 * A module loaded on first call, then kept: what a control uses for its SDK package, so that
 * loading the control's module (every Lambda loads the registry) costs nothing until it calls AWS.
 *
 * @example const s3 = lazyModule(() => require('@aws-sdk/client-s3') as typeof import('@aws-sdk/client-s3'));
 *          clients.get(s3().S3Client, region).send(new (s3().GetBucketEncryptionCommand)({ Bucket }))
 */
export function lazyModule<T>(load: () => T): () => T {
  let loaded: T | undefined;
  return () => (loaded ??= load());
}
