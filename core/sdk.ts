/**
 * The SDK packages of the guard's own machinery (its table, topic, workflow, secrets), loaded
 * on first use. Each package's entry loads all of its commands (about 100 ms per client at a
 * cold start), so a function loads only what it calls, when it calls it. A control loads its
 * own packages the same way, in its module (`lazyModule`). Types come from `import type`.
 */
import { lazy } from './lazy';

/* eslint-disable @typescript-eslint/no-require-imports */
export const sdk = {
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
  get sqs(): typeof import('@aws-sdk/client-sqs') {
    return require('@aws-sdk/client-sqs');
  },
  get sts(): typeof import('@aws-sdk/client-sts') {
    return require('@aws-sdk/client-sts');
  },
  get organizations(): typeof import('@aws-sdk/client-organizations') {
    return require('@aws-sdk/client-organizations');
  },
};

/**
 * A module loaded on first call, then kept: what a control uses for its SDK package, so that
 * loading the control's module (every Lambda loads the registry) costs nothing until it calls AWS.
 *
 * @example const s3 = lazyModule(() => require('@aws-sdk/client-s3') as typeof import('@aws-sdk/client-s3'));
 *          clients.get(s3().S3Client, region).send(new (s3().GetBucketEncryptionCommand)({ Bucket }))
 */
export const lazyModule: <T>(load: () => T) => () => T = lazy;
