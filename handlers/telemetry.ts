import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Tracer } from '@aws-lambda-powertools/tracer';
import type { Telemetry } from '../core/telemetry';

/** One logger and metrics namespace for every Rampart function (the tracer: `traced`). */
export const logger = new Logger({ serviceName: 'rampart' });
export const metrics = new Metrics({ namespace: 'Rampart', serviceName: 'rampart' });
export { MetricUnit };

/**
 * Whether the Powertools Tracer traces here, by its own rule: in a Lambda execution
 * environment (not the Amplify mock, not SAM local) unless `POWERTOOLS_TRACE_ENABLED=false`.
 */
export function tracingOn(env: NodeJS.ProcessEnv = process.env): boolean {
  if ((env.POWERTOOLS_TRACE_ENABLED ?? '').toLowerCase() === 'false') return false;
  const executionEnv = env.AWS_EXECUTION_ENV ?? '';
  return executionEnv !== '' && executionEnv !== 'AWS_Lambda_amplify-mock' && !env.AWS_SAM_LOCAL;
}

let tracer: Tracer | undefined;

/**
 * The client, captured by the Powertools Tracer when tracing is on. The Tracer and the X-Ray
 * SDK under it (about 120 KB minified, 45 % of a bundle) are loaded then only: the bundles
 * leave the package out and carry it beside as a module of its own (infra/constructs/functions.ts).
 */
export function traced<C>(client: C): C {
  if (!tracingOn()) return client;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  tracer ??= new (require('@aws-lambda-powertools/tracer') as typeof import('@aws-lambda-powertools/tracer')).Tracer({
    serviceName: 'rampart',
  });
  return tracer.captureAWSv3Client(client);
}

/** The services' telemetry (core/telemetry.ts), on Powertools. */
export const telemetry: Telemetry = {
  count: (metric, value = 1) => metrics.addMetric(metric, MetricUnit.Count, value),
  warn: (message, data) => logger.warn(message, data ?? {}),
};
