import type { Method, Resource } from '@aws-sdk/client-api-gateway';
import * as z from 'zod/mini';
import type { AwsClients } from '../core/aws';
import { lazySchema, type Detector, type Observation } from '../core/control';
import type { RampartEvent } from '../core/events';
import type { Evaluation, ResourceRef } from '../core/finding';
import { lazyModule } from '../core/sdk';
import { matchAny, methodPatternSchema } from './apigateway-method-patterns';
import { patchOperationsOf, requestBody, restApisOfEvent } from './apigateway-records';
import { restApi, restApiRef } from './apigateway-resources';
import { awsErrorName } from './aws-errors';
import { configObservation } from './config-events';

// eslint-disable-next-line @typescript-eslint/no-require-imports
export const apiGateway = lazyModule(() => require('@aws-sdk/client-api-gateway') as typeof import('@aws-sdk/client-api-gateway'));

/** The control's slice of the policy (`controls.apigateway-authorization`). */
export const authorizationPolicySchema = lazySchema(() => {
  return z.strictObject({
    /** Methods that may stay open (`authorizationType` `NONE`): CORS preflight by default. */
    allowUnauthenticated: z._default(z.array(methodPatternSchema()), ['OPTIONS *']),
    /** Methods that must require an API key (`apiKeyRequired`); none by default. */
    apiKeyRequired: z._default(z.array(methodPatternSchema()), []),
    // a method that starts asking for credentials rejects the clients that have none, and its
    // deployment ships every other undeployed change: a human always approves
    risk: z._default(z.literal('high', { message: 'apigateway-authorization fixes always need an approval: risk is high' }), 'high'),
  });
});

export type AuthorizationPolicy = z.infer<ReturnType<typeof authorizationPolicySchema>>;

/** What the control judges of one method; a field an event does not reveal is absent. */
export interface MethodAuthorization {
  resourceId: string;
  httpMethod: string;
  /** The resource path (`/pets/{id}`); unknown in UpdateMethod and PutMethod records. */
  path?: string;
  /** `NONE`, `AWS_IAM`, `CUSTOM` or `COGNITO_USER_POOLS`. */
  authorizationType?: string;
  /** `null`: no authorizer. */
  authorizerId?: string | null;
  apiKeyRequired?: boolean;
}

export interface AuthorizationState {
  methods: MethodAuthorization[];
  /** Every method of the API is listed (read live); else only those an event reveals. */
  complete: boolean;
  /** The API's authorizer ids, when read. */
  authorizers?: string[];
  /** The API's stage names, when read: where a fixed method must be deployed. */
  stages?: string[];
}

export const methodKey = (m: Pick<MethodAuthorization, 'resourceId' | 'httpMethod'>) => `${m.resourceId} ${m.httpMethod}`;
const methodName = (m: MethodAuthorization) => `${m.httpMethod} ${m.path ?? `(resource ${m.resourceId})`}`;
const USES_AUTHORIZER = new Set(['CUSTOM', 'COGNITO_USER_POOLS']);

/** The problems of one method against the policy, and what the event leaves unknown. */
export function methodProblems(m: MethodAuthorization, policy: AuthorizationPolicy, authorizers?: readonly string[]) {
  const problems: string[] = [];
  const unknown: string[] = [];
  if (m.authorizationType === 'NONE') {
    const allowed = matchAny(policy.allowUnauthenticated, m.httpMethod, m.path);
    if (allowed === 'no') problems.push(`${methodName(m)} has no authorization`);
    if (allowed === 'maybe') unknown.push(`path of ${methodName(m)} (open methods are allowed on some paths)`);
  }
  if (m.authorizationType !== undefined && USES_AUTHORIZER.has(m.authorizationType) && authorizers && m.authorizerId !== undefined) {
    if (!m.authorizerId || !authorizers.includes(m.authorizerId))
      problems.push(`${methodName(m)} uses authorizer ${m.authorizerId ?? '(none)'}, which does not exist`);
  }
  const keyed = matchAny(policy.apiKeyRequired, m.httpMethod, m.path);
  if (keyed !== 'no') {
    if (m.apiKeyRequired === false && keyed === 'yes') problems.push(`${methodName(m)} does not require an API key`);
    else if (m.apiKeyRequired === undefined || (m.apiKeyRequired === false && keyed === 'maybe'))
      unknown.push(`API key setting of ${methodName(m)}`);
  }
  return { problems, unknown };
}

/** The methods that fail the policy. */
export function failingMethods(state: AuthorizationState, policy: AuthorizationPolicy): MethodAuthorization[] {
  return state.methods.filter((m) => methodProblems(m, policy, state.authorizers).problems.length > 0);
}

/**
 * Pure: every method has authorization unless the policy allows it open, its authorizer
 * exists, and it requires an API key where the policy asks.
 *
 * @example evaluateAuthorization({ methods: [{ resourceId: 'r1', httpMethod: 'GET', path: '/pets', authorizationType: 'NONE' }], complete: true }, policy).status // 'violation'
 */
export function evaluateAuthorization(state: AuthorizationState, policy: AuthorizationPolicy): Evaluation {
  const problems: string[] = [];
  const unknown: string[] = [];
  const observed: Record<string, unknown> = {};
  for (const m of state.methods) {
    const check = methodProblems(m, policy, state.authorizers);
    problems.push(...check.problems);
    unknown.push(...check.unknown);
    if (check.problems.length > 0) {
      const { resourceId: _id, httpMethod: _verb, path: _path, ...fields } = m;
      observed[methodName(m)] = fields;
    }
  }
  if (problems.length > 0) {
    const desired = {
      authorization: `any but NONE, except ${policy.allowUnauthenticated.join(', ') || 'nothing'}`,
      ...(policy.apiKeyRequired.length > 0 ? { apiKeyRequired: policy.apiKeyRequired } : {}),
    };
    return { status: 'violation', observed: { methods: observed }, desired, reason: problems.join('; ') };
  }
  if (unknown.length > 0) return { status: 'unknown', reason: `the event does not reveal the ${unknown.join(', ')}` };
  if (!state.complete) return { status: 'unknown', reason: 'the event reveals only some methods of the API; the others must be read' };
  return { status: 'compliant' };
}

const boolOf = (value: unknown): boolean | undefined =>
  typeof value === 'boolean' ? value : value === 'true' ? true : value === 'false' ? false : undefined;
const str = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);

/**
 * The method a PutMethod or UpdateMethod record reveals. PutMethod's body (`putMethodInput`,
 * or bare) is the whole method: an unset `apiKeyRequired` is false. UpdateMethod's patch says
 * only what it changes (values are strings: `"true"`).
 */
function methodFromRecord(event: Extract<RampartEvent, { kind: 'cloudtrail' }>): Observation<AuthorizationState> {
  const record = event.record;
  const params = record.requestParameters ?? {};
  const resourceId = str(params.resourceId);
  const httpMethod = str(params.httpMethod);
  if (!resourceId || !httpMethod) return { status: 'unknown', reason: `${record.eventName} record names no resource and method` };
  const method: MethodAuthorization = { resourceId, httpMethod };
  if (record.eventName === 'PutMethod') {
    const body = requestBody(record, 'putMethodInput');
    method.authorizationType = str(body.authorizationType);
    method.authorizerId = str(body.authorizerId) ?? null;
    method.apiKeyRequired = boolOf(body.apiKeyRequired) ?? false;
  } else {
    for (const op of patchOperationsOf(record, 'updateMethodInput')) {
      if (op.path === '/authorizationType') method.authorizationType = op.op === 'remove' ? 'NONE' : op.value;
      if (op.path === '/authorizerId') method.authorizerId = op.op === 'remove' ? null : (op.value ?? null);
      if (op.path === '/apiKeyRequired') method.apiKeyRequired = op.op === 'remove' ? false : boolOf(op.value);
    }
    if (method.authorizationType === undefined && method.apiKeyRequired === undefined && method.authorizerId === undefined)
      return { status: 'unknown', reason: "UpdateMethod does not touch the method's authorization or API key" };
  }
  return { status: 'known', state: { methods: [method], complete: false } };
}

/** Every method of every resource of the API (GetResources with `embed=methods`). */
export function methodsOf(resources: readonly Resource[]): MethodAuthorization[] {
  return resources.flatMap((r) =>
    Object.entries(r.resourceMethods ?? {}).map(([verb, m]: [string, Method]) => ({
      resourceId: r.id!,
      httpMethod: m.httpMethod ?? verb,
      ...(r.path ? { path: r.path } : {}),
      authorizationType: m.authorizationType ?? 'NONE',
      authorizerId: m.authorizerId ?? null,
      apiKeyRequired: m.apiKeyRequired === true,
    })),
  );
}

async function readAuthorization(ref: ResourceRef, clients: AwsClients): Promise<Observation<AuthorizationState>> {
  if (!restApi.is(ref)) throw new TypeError(`not a REST API: ${ref.arn}`);
  const sdk = apiGateway();
  const client = clients.get(sdk.APIGatewayClient, ref.region);
  const restApiId = ref.restApiId;
  try {
    const api = await client.send(new sdk.GetRestApiCommand({ restApiId }));
    const resources: Resource[] = [];
    for await (const page of sdk.paginateGetResources({ client }, { restApiId, embed: ['methods'], limit: 500 }))
      resources.push(...(page.items ?? []));
    const authorizers: string[] = [];
    let position: string | undefined;
    do {
      const page = await client.send(new sdk.GetAuthorizersCommand({ restApiId, position, limit: 500 }));
      authorizers.push(...(page.items ?? []).flatMap((a) => (a.id ? [a.id] : [])));
      position = page.position;
    } while (position);
    const stages = await client.send(new sdk.GetStagesCommand({ restApiId }));
    return {
      status: 'known',
      state: {
        methods: methodsOf(resources),
        complete: true,
        authorizers,
        stages: (stages.item ?? []).flatMap((s) => (s.stageName ? [s.stageName] : [])),
      },
      tags: api.tags ?? {},
    };
  } catch (error) {
    if (restApi.notFoundCodes.includes(awsErrorName(error) ?? ''))
      return { status: 'gone', reason: `REST API ${restApiId} does not exist` };
    throw error;
  }
}

const API = 'arn:${Partition}:apigateway:${Region}::/restapis';

/** Every REST API in the client set's regions. */
export async function* listRestApis(clients: AwsClients): AsyncIterable<ResourceRef> {
  const sdk = apiGateway();
  for (const region of clients.regions) {
    for await (const page of sdk.paginateGetRestApis({ client: clients.get(sdk.APIGatewayClient, region) }, { limit: 500 }))
      for (const api of page.items ?? []) if (api.id) yield restApiRef(region, api.id, clients.account);
  }
}

export const apigatewayAuthorization: Detector<AuthorizationState, AuthorizationPolicy, 'apigateway-authorization'> = {
  id: 'apigateway-authorization',
  title: 'Every REST API method has authorization (unless the policy allows it open) and an API key where the policy asks',
  severity: 'high',
  resources: [restApi],
  get policySchema() {
    return authorizationPolicySchema();
  },
  triggers: {
    cloudTrail: [
      {
        source: 'aws.apigateway',
        eventSource: 'apigateway.amazonaws.com',
        // a whole API definition (PutRestApi, ImportRestApi) replaces or adds methods too
        eventNames: ['PutMethod', 'UpdateMethod', 'DeleteAuthorizer', 'CreateDeployment', 'PutRestApi', 'ImportRestApi'],
      },
    ],
    // Config records the API, not its methods: an item only says where to look
    configResourceTypes: ['AWS::ApiGateway::RestApi'],
  },

  resourcesFrom: restApisOfEvent,

  stateFrom(event) {
    if (event.kind === 'cloudtrail') {
      const { eventName } = event.record;
      if (eventName === 'PutMethod' || eventName === 'UpdateMethod') return methodFromRecord(event);
      return { status: 'unknown', reason: `${eventName} does not reveal the API's methods; they must be read` };
    }
    return (
      configObservation<AuthorizationState>(event, 'REST API', () => ({
        status: 'unknown',
        reason: "AWS Config does not record a REST API's methods; they must be read",
      })) ?? { status: 'unknown', reason: 'event does not concern REST APIs' }
    );
  },

  readState: readAuthorization,
  readPermissions: [
    {
      actions: ['apigateway:GET'],
      resources: [`${API}/*`, `${API}/*/resources`, `${API}/*/authorizers`, `${API}/*/stages`],
    },
  ],

  evaluate: (state, policy) => evaluateAuthorization(state, policy),

  list: listRestApis,
  listPermissions: [{ actions: ['apigateway:GET'], resources: [API] }],
};
