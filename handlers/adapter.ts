import type { Context } from 'aws-lambda';
import { logger, metrics } from './telemetry';

/** Wraps a handler: request context in every log line, metrics flushed once per invocation. */
export function lambdaAdapter<I, O>(
  name: string,
  fn: (event: I, context?: Context) => Promise<O>,
): (event: I, context?: Context) => Promise<O> {
  return async (event, context) => {
    if (context) logger.addContext(context);
    logger.appendKeys({ function: name });
    try {
      return await fn(event, context);
    } catch (error) {
      logger.error(`${name} failed`, error as Error);
      throw error;
    } finally {
      metrics.publishStoredMetrics();
    }
  };
}
