import * as z from 'zod/mini';
import type { AwsClients } from '../core/aws';
import { lazySchema, type Detector, type Observation } from '../core/control';
import type { CloudTrailRecord } from '../core/events';
import type { Evaluation, ResourceRef } from '../core/finding';
import { apiGateway, listRestApis } from './apigateway-authorization';
import { patchOperationsOf, requestBody, restApisOfEvent } from './apigateway-records';
import { restApi } from './apigateway-resources';
import { parseResourcePolicy, resourcePolicyProblem, type AllowedSources } from './apigateway-resource-policy';
import { awsErrorName } from './aws-errors';
import { configObservation } from './config-events';
import { asObject } from './json';
import { restApiIdSchema, riskSchema } from './policy-fields';

/** The control's slice of the policy (`controls.apigateway-private-endpoint`). */
export const privateEndpointPolicySchema = lazySchema(() => {
  const restApiId = restApiIdSchema();
  const vpcEndpointId = z.string().check(z.regex(/^vpce-[0-9a-f]+$/, { message: 'expected a VPC endpoint id (vpce-...)' }));
  const vpcId = z.string().check(z.regex(/^vpc-[0-9a-f]+$/, { message: 'expected a VPC id (vpc-...)' }));

  /** What one private API may be called from: at least one VPC endpoint or VPC. */
  const privateApiSchema = z
    .strictObject({
      /** VPC endpoints the API stays associated with and its resource policy may allow (`aws:SourceVpce`). */
      vpcEndpointIds: z._default(z.array(vpcEndpointId), []),
      /** VPCs its resource policy may allow (`aws:SourceVpc`). */
      vpcs: z._default(z.array(vpcId), []),
    })
    .check(
      z.refine((a) => a.vpcEndpointIds.length + a.vpcs.length > 0, {
        message: 'a private API needs at least one allowed VPC endpoint (vpcEndpointIds) or VPC (vpcs)',
      }),
    );
  return z.strictObject({
    /** The REST APIs that must stay private, by id: what each may be called from. APIs not named are not judged. */
    apis: z._default(z.record(restApiId, privateApiSchema), {}),
    // a resource policy or endpoint change decides who can call the API, and its deployment
    // ships every other undeployed change: a human approves by default
    risk: riskSchema('high'),
  });
});

export type PrivateEndpointPolicy = z.infer<ReturnType<typeof privateEndpointPolicySchema>>;

/** What the control judges of a REST API; a field an event does not reveal is absent. */
export interface PrivateEndpointState {
  /** `endpointConfiguration.types`: `PRIVATE`, `REGIONAL` or `EDGE`. */
  types?: string[];
  /** `endpointConfiguration.vpcEndpointIds` (read live, or whole in the event). */
  vpcEndpointIds?: string[];
  /** VPC endpoints an UpdateRestApi record adds or removes (the rest unknown). */
  vpcEndpointsAdded?: string[];
  vpcEndpointsRemoved?: string[];
  /** The resource policy document as JSON text; `null`: none. */
  policy?: string | null;
  /** The API's stage names, when read: where a fix is deployed. */
  stages?: string[];
}

const idOf = (ref: ResourceRef) => (restApi.is(ref) ? ref.restApiId : undefined);

/** The allowed sources of the API the policy marks private, or `undefined` when it does not. */
export function allowedSourcesOf(policy: PrivateEndpointPolicy, ref: ResourceRef): AllowedSources | undefined {
  const id = idOf(ref);
  return id !== undefined ? policy.apis[id] : undefined;
}

/** The resource policy as the control compares it: parsed and re-serialised, so escaping does not differ. */
export function normalisedPolicy(text: string | null | undefined): string | null | undefined {
  if (text === undefined || text === null) return text;
  const doc = parseResourcePolicy(text);
  return doc ? JSON.stringify(doc) : text;
}

/**
 * Pure: an API the policy marks private has only the `PRIVATE` endpoint type, is associated
 * with every allowed VPC endpoint and no other, and has a resource policy that lets requests
 * in only from the allowed VPC endpoints or VPCs.
 */
export function evaluatePrivateEndpoint(state: PrivateEndpointState, policy: PrivateEndpointPolicy, ref: ResourceRef): Evaluation {
  const allowed = allowedSourcesOf(policy, ref);
  if (!allowed) return { status: 'compliant' };
  const problems: string[] = [];
  const unknown: string[] = [];
  if (state.types === undefined) unknown.push('endpoint type');
  else if (state.types.length !== 1 || state.types[0] !== 'PRIVATE')
    problems.push(`its endpoint type is ${state.types.join(', ') || 'none'}, not PRIVATE`);
  if (allowed.vpcEndpointIds.length > 0) {
    const ids = state.vpcEndpointIds;
    const missing = ids
      ? allowed.vpcEndpointIds.filter((v) => !ids.includes(v))
      : (state.vpcEndpointsRemoved ?? []).filter((v) => allowed.vpcEndpointIds.includes(v));
    const extra = (ids ?? state.vpcEndpointsAdded ?? []).filter((v) => !allowed.vpcEndpointIds.includes(v));
    if (missing.length > 0) problems.push(`allowed VPC endpoints not associated: ${missing.join(', ')}`);
    if (extra.length > 0) problems.push(`VPC endpoints associated that the policy does not allow: ${extra.join(', ')}`);
    if (!ids && missing.length + extra.length === 0) unknown.push('associated VPC endpoints');
  }
  if (state.policy === undefined) unknown.push('resource policy');
  else if (state.policy === null) problems.push('it has no resource policy: any caller that reaches it is let in');
  else {
    const doc = parseResourcePolicy(state.policy);
    const problem = doc ? resourcePolicyProblem(doc, allowed) : 'its resource policy cannot be read as a policy document';
    if (problem) problems.push(`its resource policy lets in more than the allowed VPC endpoints and VPCs: ${problem}`);
  }
  const desired = { types: ['PRIVATE'], vpcEndpointIds: allowed.vpcEndpointIds, vpcs: allowed.vpcs };
  const observed = { types: state.types, vpcEndpointIds: state.vpcEndpointIds, policy: normalisedPolicy(state.policy) };
  if (problems.length > 0)
    return { status: 'violation', observed, desired, reason: `private REST API ${idOf(ref)}: ${problems.join('; ')}` };
  if (unknown.length > 0) return { status: 'unknown', reason: `the event does not reveal the API's ${unknown.join(', ')}` };
  return { status: 'compliant' };
}

const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
const strings = (value: unknown): string[] | undefined =>
  Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : undefined;

/** The state a whole RestApi shape gives (CreateRestApi's request or response, a Config item's configuration). */
function fromRestApiShape(api: Record<string, unknown>, withPolicy: boolean): PrivateEndpointState {
  const endpoint = asObject(api.endpointConfiguration);
  const types = strings(endpoint?.types);
  const ids = strings(endpoint?.vpcEndpointIds);
  return {
    ...(types ? { types } : {}),
    ...(ids ? { vpcEndpointIds: ids } : types ? { vpcEndpointIds: [] } : {}),
    ...(withPolicy ? { policy: str(api.policy) || null } : {}),
  };
}

/** What UpdateRestApi's patch operations reveal: a changed type, endpoints added or removed, a new policy. */
function fromUpdateRestApi(record: CloudTrailRecord): PrivateEndpointState {
  const state: PrivateEndpointState = {};
  for (const op of patchOperationsOf(record, 'updateRestApiInput')) {
    if (/^\/endpointConfiguration\/types\/[A-Z]+$/.test(op.path) && op.op === 'replace' && op.value) state.types = [op.value];
    if (op.path === '/endpointConfiguration/vpcEndpointIds' && op.value) {
      const ids = op.value
        .split(',')
        .map((v) => v.trim())
        .filter(Boolean);
      if (op.op === 'add') state.vpcEndpointsAdded = [...(state.vpcEndpointsAdded ?? []), ...ids];
      if (op.op === 'remove') state.vpcEndpointsRemoved = [...(state.vpcEndpointsRemoved ?? []), ...ids];
    }
    if (op.path === '/policy') state.policy = op.op === 'remove' || !op.value ? null : op.value;
  }
  return state;
}

function stateFromRecord(record: CloudTrailRecord): Observation<PrivateEndpointState> {
  switch (record.eventName) {
    case 'CreateRestApi': {
      // the response is the whole API (policy included when set); the request only what was asked
      const out = asObject(record.responseElements);
      const whole = out && str(out.id) ? out : requestBody(record, 'createRestApiInput');
      return { status: 'known', state: fromRestApiShape(whole, true) };
    }
    case 'UpdateRestApi':
      return { status: 'known', state: fromUpdateRestApi(record) };
    default:
      // PutRestApi and ImportRestApi records do not carry the OpenAPI body
      return { status: 'unknown', reason: `${record.eventName} does not reveal the API's endpoint or resource policy; they must be read` };
  }
}

async function readPrivateEndpoint(ref: ResourceRef, clients: AwsClients): Promise<Observation<PrivateEndpointState>> {
  if (!restApi.is(ref)) throw new TypeError(`not a REST API: ${ref.arn}`);
  const sdk = apiGateway();
  const client = clients.get(sdk.APIGatewayClient, ref.region);
  try {
    const api = await client.send(new sdk.GetRestApiCommand({ restApiId: ref.restApiId }));
    const stages = await client.send(new sdk.GetStagesCommand({ restApiId: ref.restApiId }));
    return {
      status: 'known',
      state: {
        types: api.endpointConfiguration?.types ?? [],
        vpcEndpointIds: api.endpointConfiguration?.vpcEndpointIds ?? [],
        // GetRestApi escapes the document: kept as plain JSON text, as UpdateRestApi takes it
        policy: api.policy ? (normalisedPolicy(api.policy) ?? null) : null,
        stages: (stages.item ?? []).flatMap((s) => (s.stageName ? [s.stageName] : [])),
      },
      tags: api.tags ?? {},
    };
  } catch (error) {
    if (restApi.notFoundCodes.includes(awsErrorName(error) ?? ''))
      return { status: 'gone', reason: `REST API ${ref.restApiId} does not exist` };
    throw error;
  }
}

const API = 'arn:${Partition}:apigateway:${Region}::/restapis';

export const apigatewayPrivateEndpoint: Detector<PrivateEndpointState, PrivateEndpointPolicy, 'apigateway-private-endpoint'> = {
  id: 'apigateway-private-endpoint',
  title:
    'REST APIs the policy marks private stay PRIVATE, on their VPC endpoints, with a resource policy allowing only those endpoints or VPCs',
  severity: 'high',
  resources: [restApi],
  get policySchema() {
    return privateEndpointPolicySchema();
  },
  triggers: {
    cloudTrail: [
      {
        source: 'aws.apigateway',
        eventSource: 'apigateway.amazonaws.com',
        eventNames: ['CreateRestApi', 'UpdateRestApi', 'PutRestApi', 'ImportRestApi'],
      },
    ],
    // Config records a REST API's endpoint types, not its resource policy or VPC endpoints
    configResourceTypes: ['AWS::ApiGateway::RestApi'],
  },

  resourcesFrom: restApisOfEvent,

  stateFrom(event) {
    if (event.kind === 'cloudtrail') return stateFromRecord(event.record);
    return (
      configObservation<PrivateEndpointState>(event, 'REST API', (item) => {
        const types = strings(asObject(asObject(item.configuration)?.endpointConfiguration)?.types);
        return types
          ? { status: 'known', state: { types } }
          : { status: 'unknown', reason: "the Config item does not give the API's endpoint type; it must be read" };
      }) ?? { status: 'unknown', reason: 'event does not concern REST APIs' }
    );
  },

  readState: readPrivateEndpoint,
  readPermissions: [{ actions: ['apigateway:GET'], resources: [`${API}/*`, `${API}/*/stages`] }],

  evaluate: evaluatePrivateEndpoint,

  list: listRestApis,
  listPermissions: [{ actions: ['apigateway:GET'], resources: [API] }],
};
