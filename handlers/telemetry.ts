import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import type { Telemetry } from '../core/telemetry';

/** One logger, tracer and metrics namespace for every Rampart function. */
export const logger = new Logger({ serviceName: 'rampart' });
export const tracer = new Tracer({ serviceName: 'rampart' });
export const metrics = new Metrics({ namespace: 'Rampart', serviceName: 'rampart' });
export { MetricUnit };

/** The services' telemetry (core/telemetry.ts), on Powertools. */
export const telemetry: Telemetry = {
  count: (metric, value = 1) => metrics.addMetric(metric, MetricUnit.Count, value),
  warn: (message, data) => logger.warn(message, data ?? {}),
};
