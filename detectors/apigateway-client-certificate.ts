import * as z from 'zod/mini';
import type { AwsClients } from '../core/aws';
import { lazySchema, type Detector, type Observation } from '../core/control';
import type { RampartEvent } from '../core/events';
import type { Evaluation, ResourceRef } from '../core/finding';
import { restApiStage } from './apigateway-resources';
import {
  GET_STAGE_PERMISSION,
  LIST_STAGES_PERMISSION,
  STAGE_TRIGGER,
  getStage,
  stageFieldPatches,
  stageKeySchema,
  stagePatchOf,
  stageStateFromConfig,
  stagesOfEvent,
} from './apigateway-stage-settings';
import { apiGatewaySdk, listRestStages } from './apigateway-waf';
import { awsErrorName } from './aws-errors';
import { riskSchema } from './policy-fields';

const DAY_MS = 86_400_000;

/** The control's slice of the policy (`controls.apigateway-client-certificate`). */
export const clientCertificatePolicySchema = lazySchema(() => {
  return z.strictObject({
    /** Stages that must present a client certificate to their backend: `<restApiId>/<stage>`, `<restApiId>`, or `*`. */
    stages: z._default(z.array(z.union([z.literal('*'), stageKeySchema()])), []),
    /** The certificate to attach to a stage (or API) that lost its own and has no last known good one. */
    certificates: z._default(z.record(stageKeySchema(), z.string().check(z.minLength(1))), {}),
    /** A certificate that expires within this many days is a finding (any stage that presents one). */
    renewBeforeDays: z._default(z.int().check(z.positive()), 30),
    // restoring a certificate changes what the backend sees: a human approves by default
    risk: riskSchema('high'),
  });
});

export type ClientCertificatePolicy = z.infer<ReturnType<typeof clientCertificatePolicySchema>>;

/** A stage's backend client certificate; a member an event does not reveal is absent. */
export interface ClientCertificateState {
  /** `null`: the stage presents none. */
  clientCertificateId?: string | null;
  /** When the certificate expires (ISO 8601); `null`: it no longer exists; absent: not read (offline). */
  expirationDate?: string | null;
  /** When the state was read (ISO 8601): expiry is judged at this time, so `evaluate` stays pure. */
  readAt?: string;
}

/** Must the stage present a client certificate? */
export function requiresCertificate(policy: ClientCertificatePolicy, ref: ResourceRef): boolean {
  if (!restApiStage.is(ref)) return false;
  return policy.stages.some((k) => k === '*' || k === ref.restApiId || k === `${ref.restApiId}/${ref.stageName}`);
}

const nonEmpty = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);

/**
 * Pure: a stage the policy names presents a certificate; any stage's certificate exists and is
 * not within `renewBeforeDays` of its expiry (judged at `readAt`).
 */
export function evaluateClientCertificate(state: ClientCertificateState, policy: ClientCertificatePolicy, ref: ResourceRef): Evaluation {
  const required = requiresCertificate(policy, ref);
  const desired = { clientCertificateId: required ? 'a client certificate' : 'any', validForDays: `more than ${policy.renewBeforeDays}` };
  const id = state.clientCertificateId;
  if (id === undefined) return { status: 'unknown', reason: "the event does not reveal the stage's client certificate" };
  if (id === null)
    return required
      ? {
          status: 'violation',
          observed: { clientCertificateId: null },
          desired,
          reason: 'the stage presents no client certificate to its backend',
        }
      : { status: 'compliant' };
  // an ACM certificate (its ARN in the same field) is renewed and watched by ACM, which API
  // Gateway's GetClientCertificate does not know: only its presence is judged here
  if (id.startsWith('arn:')) return { status: 'compliant' };
  if (state.expirationDate === null)
    return {
      status: 'violation',
      observed: { clientCertificateId: id, exists: false },
      desired,
      reason: `the stage presents client certificate ${id}, which no longer exists`,
    };
  if (state.expirationDate === undefined || state.readAt === undefined)
    return { status: 'unknown', reason: `the expiry of client certificate ${id} is not in the event` };
  const daysLeft = Math.floor((Date.parse(state.expirationDate) - Date.parse(state.readAt)) / DAY_MS);
  if (daysLeft > policy.renewBeforeDays) return { status: 'compliant' };
  const when = daysLeft < 0 ? `expired on ${state.expirationDate}` : `expires on ${state.expirationDate} (in ${daysLeft} days)`;
  return {
    status: 'violation',
    observed: { clientCertificateId: id, expirationDate: state.expirationDate, daysLeft },
    desired,
    reason: `client certificate ${id} ${when}, within renewBeforeDays ${policy.renewBeforeDays}`,
  };
}

function stateFromRecord(event: Extract<RampartEvent, { kind: 'cloudtrail' }>): Observation<ClientCertificateState> {
  const record = event.record;
  switch (record.eventName) {
    case 'CreateStage':
      // CreateStage takes no client certificate (API Reference): a new stage presents none
      return { status: 'known', state: { clientCertificateId: null } };
    case 'UpdateStage': {
      const fields = stageFieldPatches(stagePatchOf(record));
      if (fields.has('clientCertificateId'))
        return { status: 'known', state: { clientCertificateId: nonEmpty(fields.get('clientCertificateId')) } };
      const paths = [...fields.keys()].map((p) => `/${p}`).join(', ') || 'no stage field';
      return { status: 'unknown', reason: `UpdateStage patches ${paths}; the client certificate is not in the event` };
    }
    default:
      return { status: 'unknown', reason: `${record.eventName} may target an existing stage; its client certificate is not in the event` };
  }
}

/** The certificate's expiry (GetClientCertificate); `null` when it no longer exists. */
async function expiryOf(clients: AwsClients, region: string, clientCertificateId: string): Promise<string | null> {
  const sdk = apiGatewaySdk();
  try {
    const out = await clients.get(sdk.APIGatewayClient, region).send(new sdk.GetClientCertificateCommand({ clientCertificateId }));
    return out.expirationDate ? out.expirationDate.toISOString() : null;
  } catch (error) {
    if (awsErrorName(error) === 'NotFoundException') return null;
    throw error;
  }
}

/** The detector, reading the time of each read from `clock` (injected: tests fix it). */
export function clientCertificateDetector(
  clock: () => Date,
): Detector<ClientCertificateState, ClientCertificatePolicy, 'apigateway-client-certificate'> {
  return {
    id: 'apigateway-client-certificate',
    title: 'REST API stages the policy names present a client certificate to their backend, and none is about to expire',
    severity: 'high',
    // APIGateway.2: stages use SSL certificates for backend authentication
    securityHubControls: ['APIGateway.2'],
    resources: [restApiStage],
    get policySchema() {
      return clientCertificatePolicySchema();
    },
    // GenerateClientCertificate and DeleteClientCertificate name no stage: the detector reads
    // each stage's certificate (a deleted one reads as gone), and the sweep judges expiry,
    // which comes with time, not with an event
    triggers: { cloudTrail: [STAGE_TRIGGER], configResourceTypes: ['AWS::ApiGateway::Stage'] },

    resourcesFrom: stagesOfEvent,

    stateFrom(event: RampartEvent): Observation<ClientCertificateState> {
      return event.kind === 'cloudtrail'
        ? stateFromRecord(event)
        : stageStateFromConfig(event, (stage) => ({ clientCertificateId: nonEmpty(stage.clientCertificateId) }));
    },

    async readState(ref: ResourceRef, clients: AwsClients): Promise<Observation<ClientCertificateState>> {
      const stage = await getStage(ref, clients);
      if (!stage) return { status: 'gone', reason: `stage ${ref.arn} does not exist` };
      const id = nonEmpty(stage.clientCertificateId);
      const state: ClientCertificateState = { clientCertificateId: id };
      if (id && !id.startsWith('arn:'))
        Object.assign(state, { expirationDate: await expiryOf(clients, stage.ref.region, id), readAt: clock().toISOString() });
      return { status: 'known', state, tags: stage.tags ?? {} };
    },
    readPermissions: [
      GET_STAGE_PERMISSION,
      // GetClientCertificate: the certificate's expiry
      { actions: ['apigateway:GET'], resources: ['arn:${Partition}:apigateway:${Region}::/clientcertificates/*'] },
    ],

    evaluate: (state, policy, ref) => evaluateClientCertificate(state, policy, ref),

    list: listRestStages,
    listPermissions: [LIST_STAGES_PERMISSION],
  };
}

export const apigatewayClientCertificate = clientCertificateDetector(() => new Date());
