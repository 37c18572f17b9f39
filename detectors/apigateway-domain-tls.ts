import * as z from 'zod/mini';
import type { AwsClients } from '../core/aws';
import { lazySchema, type Detector, type Observation } from '../core/control';
import type { RampartEvent } from '../core/events';
import type { Evaluation, ResourceRef } from '../core/finding';
import { defineKind } from '../core/resources';
import { apiGateway, listRestApis } from './apigateway-authorization';
import { patchOperationsOf, requestBody, restApiFromRecord } from './apigateway-records';
import { restApi, tagging } from './apigateway-resources';
import { awsErrorName } from './aws-errors';
import { refFromConfigEvent } from './config-events';
import { asObject } from './json';
import { restApiIdSchema, riskSchema } from './policy-fields';

/**
 * API Gateway's security policies (SecurityPolicy in the SDK, version 3.1142): the legacy
 * `TLS_1_0` and `TLS_1_2`, and the enhanced policies. What the control compares is the lowest
 * TLS version a policy accepts, read from its name.
 */
export const SECURITY_POLICIES = [
  'TLS_1_0',
  'TLS_1_2',
  'SecurityPolicy_TLS12_2018_EDGE',
  'SecurityPolicy_TLS12_PFS_2025_EDGE',
  'SecurityPolicy_TLS13_1_2_2021_06',
  'SecurityPolicy_TLS13_1_2_Ext2_FIPS_PQ_2025_09',
  'SecurityPolicy_TLS13_1_2_Ext2_PQ_2025_09',
  'SecurityPolicy_TLS13_1_2_FIPS_PFS_PQ_2025_09',
  'SecurityPolicy_TLS13_1_2_FIPS_PQ_2025_09',
  'SecurityPolicy_TLS13_1_2_PFS_PQ_2025_09',
  'SecurityPolicy_TLS13_1_2_PQ_2025_09',
  'SecurityPolicy_TLS13_1_3_2025_09',
  'SecurityPolicy_TLS13_1_3_FIPS_2025_09',
  'SecurityPolicy_TLS13_2025_EDGE',
] as const;

/**
 * The lowest TLS version a security policy accepts (1.0, 1.2, 1.3), or `undefined` for a name
 * this version of Rampart cannot read (never guessed).
 * `SecurityPolicy_TLS13_1_2_*` accept TLS 1.3 and 1.2; `SecurityPolicy_TLS13_1_3_*` and
 * `SecurityPolicy_TLS13_2025_EDGE` TLS 1.3 only.
 */
export function minimumTlsOf(securityPolicy: string): number | undefined {
  if (securityPolicy === 'TLS_1_0') return 1.0;
  if (securityPolicy === 'TLS_1_2' || /^SecurityPolicy_TLS12_/.test(securityPolicy) || /^SecurityPolicy_TLS13_1_2_/.test(securityPolicy))
    return 1.2;
  if (/^SecurityPolicy_TLS13_(1_3_|\d{4}_EDGE$)/.test(securityPolicy)) return 1.3;
  return undefined;
}

/** The control's slice of the policy (`controls.apigateway-domain-tls`). */
export const domainTlsPolicySchema = lazySchema(() => {
  const restApiId = restApiIdSchema();
  return z.strictObject({
    /** The weakest security policy a custom domain may have: its TLS floor is compared. */
    minimumSecurityPolicy: z._default(z.enum(SECURITY_POLICIES), 'TLS_1_2'),
    /** Domain names that must keep mutual TLS (a truststore); `*` for every domain. */
    mutualTls: z._default(z.array(z.string().check(z.minLength(1))), []),
    /** REST APIs served only through a custom domain: their default `execute-api` endpoint must be disabled. */
    disableExecuteApiEndpoint: z._default(z.array(restApiId), []),
    // a stricter TLS policy can cut off old clients: a human approves by default
    risk: riskSchema('high'),
  });
});

export type DomainTlsPolicy = z.infer<ReturnType<typeof domainTlsPolicySchema>>;

export interface DomainNameRef extends ResourceRef {
  type: 'AWS::ApiGateway::DomainName';
  region: string;
  domainName: string;
  /** Private custom domains only: their id (`/domainnames/<name>+<id>`). */
  domainNameId?: string;
}

const DOMAIN_RESOURCE = /^\/domainnames\/([^/+]+)(?:\+([^/]+))?$/;

/** Custom domain names. AWS Config records none (no `AWS::ApiGateway::DomainName` resource type): CloudTrail and the sweep see them. */
export const customDomainName = defineKind<DomainNameRef, { domainName: string; domainNameId?: string }>({
  type: 'AWS::ApiGateway::DomainName',
  build: ({ domainName, domainNameId }, { partition, region = '' }) =>
    `arn:${partition}:apigateway:${region}::/domainnames/${domainName}${domainNameId ? `+${domainNameId}` : ''}`,
  parse(parts) {
    const m = parts.service === 'apigateway' && parts.region ? DOMAIN_RESOURCE.exec(parts.resource) : null;
    return m ? { domainName: m[1]!, ...(m[2] ? { domainNameId: m[2] } : {}) } : undefined;
  },
  nameOf: (ref) => ref.domainName,
  notFoundCodes: ['NotFoundException'],
  tagging,
});

export type DomainTlsState =
  | {
      kind: 'domain';
      securityPolicy?: string;
      /** `null`: no mutual TLS. */
      truststoreUri?: string | null;
      /** `EDGE`, `REGIONAL` or `PRIVATE`. */
      endpointType?: string;
    }
  | { kind: 'rest-api'; disableExecuteApiEndpoint?: boolean; stages?: string[] };

const wantsMutualTls = (policy: DomainTlsPolicy, domainName: string) => policy.mutualTls.some((d) => d === '*' || d === domainName);

/**
 * Pure: a domain's security policy accepts no TLS below the policy's minimum and it keeps
 * mutual TLS where the policy asks; a REST API the policy names has its `execute-api`
 * endpoint disabled.
 */
export function evaluateDomainTls(state: DomainTlsState, policy: DomainTlsPolicy, ref: ResourceRef): Evaluation {
  if (state.kind === 'rest-api') {
    if (!restApi.is(ref) || !policy.disableExecuteApiEndpoint.includes(ref.restApiId)) return { status: 'compliant' };
    if (state.disableExecuteApiEndpoint === undefined)
      return { status: 'unknown', reason: 'the event does not reveal the default endpoint setting' };
    return state.disableExecuteApiEndpoint
      ? { status: 'compliant' }
      : {
          status: 'violation',
          observed: { disableExecuteApiEndpoint: false },
          desired: { disableExecuteApiEndpoint: true },
          reason: `REST API ${ref.restApiId} is served only through a custom domain, but its default execute-api endpoint is enabled`,
        };
  }
  const problems: string[] = [];
  const unknown: string[] = [];
  const floor = minimumTlsOf(policy.minimumSecurityPolicy)!;
  if (state.securityPolicy === undefined) unknown.push('security policy');
  else {
    const tls = minimumTlsOf(state.securityPolicy);
    if (tls === undefined) unknown.push(`TLS floor of security policy ${state.securityPolicy}`);
    else if (tls < floor)
      problems.push(
        `security policy ${state.securityPolicy} accepts TLS ${tls.toFixed(1)}, below the minimum ${policy.minimumSecurityPolicy}`,
      );
  }
  const domainName = customDomainName.is(ref) ? ref.domainName : undefined;
  if (domainName && wantsMutualTls(policy, domainName)) {
    if (state.truststoreUri === undefined) unknown.push('mutual TLS setting');
    else if (state.truststoreUri === null) problems.push('mutual TLS is off: the domain has no truststore');
  }
  const desired = {
    minimumSecurityPolicy: policy.minimumSecurityPolicy,
    ...(domainName && wantsMutualTls(policy, domainName) ? { mutualTls: true } : {}),
  };
  const observed = { securityPolicy: state.securityPolicy, truststoreUri: state.truststoreUri };
  if (problems.length > 0) return { status: 'violation', observed, desired, reason: problems.join('; ') };
  if (unknown.length > 0) return { status: 'unknown', reason: `the event does not reveal the domain's ${unknown.join(', ')}` };
  return { status: 'compliant' };
}

const str = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);

/** The custom domain a record names (`domainName`, and `domainNameId` for a private one). */
function domainFromRecord(event: Extract<RampartEvent, { kind: 'cloudtrail' }>): DomainNameRef | undefined {
  const { requestParameters: params, awsRegion, recipientAccountId, eventName } = event.record;
  const body = eventName === 'CreateDomainName' ? requestBody(event.record, 'createDomainNameInput') : {};
  const name = str(params?.domainName) ?? str(body.domainName);
  if (!name) return undefined;
  const id = str(params?.domainNameId) ?? str(asObject(event.record.responseElements)?.domainNameId);
  return customDomainName.ref(
    { domainName: name, ...(id ? { domainNameId: id } : {}) },
    { region: awsRegion, account: recipientAccountId },
  );
}

function stateFromRecord(event: Extract<RampartEvent, { kind: 'cloudtrail' }>): Observation<DomainTlsState> {
  const record = event.record;
  switch (record.eventName) {
    case 'CreateDomainName': {
      // the response is the whole domain; the request only what was asked
      const out = asObject(record.responseElements);
      const body = requestBody(record, 'createDomainNameInput');
      const whole = out && str(out.domainName) ? out : undefined;
      const from = whole ?? body;
      const mtls = asObject(from.mutualTlsAuthentication);
      return {
        status: 'known',
        state: {
          kind: 'domain',
          ...(str(from.securityPolicy) ? { securityPolicy: str(from.securityPolicy) } : {}),
          truststoreUri: str(mtls?.truststoreUri) ?? null,
        },
      };
    }
    case 'UpdateDomainName': {
      const state: Extract<DomainTlsState, { kind: 'domain' }> = { kind: 'domain' };
      for (const op of patchOperationsOf(record, 'updateDomainNameInput')) {
        if (op.path === '/securityPolicy' && op.op === 'replace') state.securityPolicy = op.value;
        if (op.path === '/mutualTlsAuthentication/truststoreUri') state.truststoreUri = op.op === 'remove' ? null : (str(op.value) ?? null);
        if (op.path === '/mutualTlsAuthentication' && op.op === 'remove') state.truststoreUri = null;
      }
      return { status: 'known', state };
    }
    case 'CreateRestApi': {
      const body = requestBody(record, 'createRestApiInput');
      return { status: 'known', state: { kind: 'rest-api', disableExecuteApiEndpoint: body.disableExecuteApiEndpoint === true } };
    }
    case 'UpdateRestApi': {
      const op = patchOperationsOf(record, 'updateRestApiInput').find((o) => o.path === '/disableExecuteApiEndpoint');
      return op
        ? { status: 'known', state: { kind: 'rest-api', disableExecuteApiEndpoint: op.op !== 'remove' && op.value === 'true' } }
        : { status: 'known', state: { kind: 'rest-api' } };
    }
    default:
      return { status: 'unknown', reason: `${record.eventName} does not reveal the API's default endpoint setting; it must be read` };
  }
}

async function readDomainTls(ref: ResourceRef, clients: AwsClients): Promise<Observation<DomainTlsState>> {
  const sdk = apiGateway();
  try {
    if (customDomainName.is(ref)) {
      const client = clients.get(sdk.APIGatewayClient, ref.region);
      const out = await client.send(
        new sdk.GetDomainNameCommand({ domainName: ref.domainName, ...(ref.domainNameId ? { domainNameId: ref.domainNameId } : {}) }),
      );
      return {
        status: 'known',
        state: {
          kind: 'domain',
          ...(out.securityPolicy ? { securityPolicy: out.securityPolicy } : {}),
          truststoreUri: out.mutualTlsAuthentication?.truststoreUri || null,
          ...(out.endpointConfiguration?.types?.[0] ? { endpointType: out.endpointConfiguration.types[0] } : {}),
        },
        tags: out.tags ?? {},
      };
    }
    if (restApi.is(ref)) {
      const client = clients.get(sdk.APIGatewayClient, ref.region);
      const api = await client.send(new sdk.GetRestApiCommand({ restApiId: ref.restApiId }));
      const stages = await client.send(new sdk.GetStagesCommand({ restApiId: ref.restApiId }));
      return {
        status: 'known',
        state: {
          kind: 'rest-api',
          disableExecuteApiEndpoint: api.disableExecuteApiEndpoint === true,
          stages: (stages.item ?? []).flatMap((s) => (s.stageName ? [s.stageName] : [])),
        },
        tags: api.tags ?? {},
      };
    }
  } catch (error) {
    if (awsErrorName(error) === 'NotFoundException') return { status: 'gone', reason: `${ref.arn} does not exist` };
    throw error;
  }
  throw new TypeError(`not a custom domain or REST API: ${ref.arn}`);
}

const APIGW = 'arn:${Partition}:apigateway:${Region}::';

export const apigatewayDomainTls: Detector<DomainTlsState, DomainTlsPolicy, 'apigateway-domain-tls'> = {
  id: 'apigateway-domain-tls',
  title: 'API Gateway custom domains require modern TLS and keep mutual TLS; APIs served only by a domain have no execute-api endpoint',
  severity: 'high',
  resources: [customDomainName, restApi],
  get policySchema() {
    return domainTlsPolicySchema();
  },
  triggers: {
    cloudTrail: [
      {
        source: 'aws.apigateway',
        eventSource: 'apigateway.amazonaws.com',
        eventNames: ['CreateDomainName', 'UpdateDomainName', 'CreateRestApi', 'UpdateRestApi', 'PutRestApi', 'ImportRestApi'],
      },
    ],
    // Config records no custom domain names; a REST API item says where to look
    configResourceTypes: ['AWS::ApiGateway::RestApi'],
  },

  resourcesFrom(event) {
    if (event.kind === 'cloudtrail') {
      const name = event.record.eventName;
      const ref = name === 'CreateDomainName' || name === 'UpdateDomainName' ? domainFromRecord(event) : restApiFromRecord(event.record);
      return ref ? [ref] : [];
    }
    return refFromConfigEvent(event, restApi) ?? [];
  },

  stateFrom(event) {
    if (event.kind === 'cloudtrail') return stateFromRecord(event);
    // Config's REST API schema lists no disableExecuteApiEndpoint: the item only says where to look
    return { status: 'unknown', reason: "the event does not reveal the API's default endpoint setting; it must be read" };
  },

  readState: readDomainTls,
  readPermissions: [
    { actions: ['apigateway:GET'], resources: [`${APIGW}/domainnames/*`, `${APIGW}/restapis/*`, `${APIGW}/restapis/*/stages`] },
  ],

  evaluate: evaluateDomainTls,

  async *list(clients) {
    const sdk = apiGateway();
    for (const region of clients.regions) {
      for await (const page of sdk.paginateGetDomainNames({ client: clients.get(sdk.APIGatewayClient, region) }, { limit: 500 }))
        for (const d of page.items ?? [])
          if (d.domainName)
            yield customDomainName.ref(
              { domainName: d.domainName, ...(d.domainNameId ? { domainNameId: d.domainNameId } : {}) },
              { region, account: clients.account },
            );
    }
    yield* listRestApis(clients);
  },
  listPermissions: [{ actions: ['apigateway:GET'], resources: [`${APIGW}/domainnames`, `${APIGW}/restapis`] }],
};
