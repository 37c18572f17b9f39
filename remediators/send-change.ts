import type { AwsClients, ClientClass } from '../core/aws';
import { stepsOf, type Change } from '../core/control';
import { messageOf } from '../core/errors';
import { awsErrorName } from '../detectors/aws-errors';
import { REMEDIATION_ERRORS, remediationError } from './failures';

/** What a client's `send` takes and returns, for any service. */
interface SendingClient {
  send(command: unknown): Promise<unknown>;
}

/**
 * Sends a planned change as its SDK command (`UpdateTrail` → `UpdateTrailCommand` of the
 * service's module), in the change's region, and only for an operation the remediator declares
 * (`permissions` names each one): a plan can never make `apply` call anything else.
 *
 * @example await sendChange(apiGateway(), apiGateway().APIGatewayClient, change, clients, Object.keys(permissions))
 */
export async function sendChange(
  module: object,
  Client: ClientClass<SendingClient>,
  change: Change,
  clients: AwsClients,
  operations: readonly string[],
): Promise<void> {
  const Command = (module as Record<string, unknown>)[`${change.operation}Command`];
  if (!operations.includes(change.operation) || typeof Command !== 'function') {
    throw new TypeError(`cannot apply ${change.operation}: not an operation this control declares`);
  }
  await clients.get(Client, change.region).send(new (Command as new (input: unknown) => unknown)(change.input));
}

/**
 * Sends a planned change and its follow-ups, in order, each as {@link sendChange} does; a call
 * that fails stops the rest (a follow-up completes its predecessor, it never stands alone).
 * The first call's own error is thrown as it is (nothing was written). A follow-up that fails
 * after a call went through is a `Rampart.PartlyApplied` error naming what was made and what
 * was not: trying again would plan anew, see the first call made and never send the rest (a
 * method restored but never deployed).
 *
 * @example await sendChanges(kms(), kms().KMSClient, change, clients, Object.keys(permissions))
 */
export async function sendChanges(
  module: object,
  Client: ClientClass<SendingClient>,
  change: Change,
  clients: AwsClients,
  operations: readonly string[],
): Promise<void> {
  const steps = stepsOf(change);
  // refuse the whole fix before the first call when any step is not declared
  for (const step of steps) {
    if (!operations.includes(step.operation) || typeof (module as Record<string, unknown>)[`${step.operation}Command`] !== 'function')
      throw new TypeError(`cannot apply ${step.operation}: not an operation this control declares`);
  }
  const made: string[] = [];
  for (const step of steps) {
    try {
      await sendChange(module, Client, step, clients, operations);
    } catch (error) {
      if (made.length === 0) throw error;
      throw remediationError(
        REMEDIATION_ERRORS.partlyApplied,
        `${made.join(', ')} made; ${step.operation} ${JSON.stringify(step.input)} failed (${awsErrorName(error) ?? 'Error'}: ${messageOf(error)}): ` +
          'the fix is not complete until it is made',
      );
    }
    made.push(step.operation);
  }
}
