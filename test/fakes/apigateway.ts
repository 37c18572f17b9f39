import {
  APIGatewayClient,
  BadRequestException,
  GetAccountCommand,
  GetClientCertificateCommand,
  CreateDeploymentCommand,
  GetAuthorizersCommand,
  GetDeploymentCommand,
  GetDomainNameCommand,
  GetDomainNamesCommand,
  GetResourcesCommand,
  GetRestApiCommand,
  GetRestApisCommand,
  GetStageCommand,
  GetStagesCommand,
  GetTagsCommand,
  GetUsagePlanCommand,
  GetUsagePlansCommand,
  NotFoundException,
  UpdateDomainNameCommand,
  UpdateMethodCommand,
  UpdateRestApiCommand,
  UpdateStageCommand,
  UpdateUsagePlanCommand,
  type AccessLogSettings,
  type EndpointConfiguration,
  type EndpointType,
  type MethodSetting,
  type MethodSnapshot,
  type PatchOperation,
  type QuotaSettings,
  type ThrottleSettings,
} from '@aws-sdk/client-api-gateway';
import { mockClient } from 'aws-sdk-client-mock';
import type { FakeWorld } from './world';

export interface FakeStage {
  methodSettings: Record<string, MethodSetting>;
  /** The deployment the stage serves (a key of `snapshots`); CreateDeployment with the stage's name moves it. */
  deploymentId?: string;
  /** Set by the WAF fake's associations. */
  webAclArn?: string;
  tags?: Record<string, string>;
  // the stage-level settings of the logging, cache-encryption and client-certificate controls
  accessLogSettings?: AccessLogSettings;
  tracingEnabled?: boolean;
  cacheClusterEnabled?: boolean;
  clientCertificateId?: string;
}

/** A client certificate (GenerateClientCertificate); dates as the SDK gives them. */
export interface FakeClientCertificate {
  createdDate: Date;
  expirationDate: Date;
}

export interface FakePlan {
  throttle?: ThrottleSettings;
  quota?: QuotaSettings;
}

/** API Gateway REST stages (keyed by ARN) and usage plans (keyed by id), behind a mocked APIGatewayClient. */
export class FakeApiGateway {
  readonly stages = new Map<string, FakeStage>();
  readonly usagePlans = new Map<string, FakePlan>();
  /** The account's API Gateway settings (GetAccount): the CloudWatch Logs role execution logging needs. */
  readonly account: { cloudwatchRoleArn?: string } = { cloudwatchRoleArn: 'arn:aws:iam::111122223333:role/ApiGatewayCloudWatchLogs' };
  /** Client certificates by id. */
  readonly clientCertificates = new Map<string, FakeClientCertificate>();
  readonly mock = mockClient(APIGatewayClient);

  constructor(private readonly world: FakeWorld) {
    const stagesByApi = () => {
      const apis = new Map<string, string[]>();
      for (const arn of this.stages.keys()) {
        const m = /\/restapis\/([^/]+)\/stages\/([^/]+)$/.exec(arn)!;
        apis.set(m[1]!, [...(apis.get(m[1]!) ?? []), m[2]!]);
      }
      return apis;
    };
    this.mock.on(GetRestApisCommand).callsFake((input: { position?: string }) => {
      const ids = new Set([...stagesByApi().keys(), ...this.restApis.keys()]);
      const { items, next } = this.world.page([...ids].sort(), input.position);
      return { items: items.map((id) => ({ id })), ...(next ? { position: next } : {}) };
    });
    this.mock.on(GetStagesCommand).callsFake((input: { restApiId: string }) => ({
      item: (stagesByApi().get(input.restApiId) ?? []).map((stageName) => ({
        stageName,
        ...(stageOf(input.restApiId, stageName)?.deploymentId ? { deploymentId: stageOf(input.restApiId, stageName)!.deploymentId } : {}),
      })),
    }));
    this.mock.on(GetUsagePlansCommand).callsFake((input: { position?: string }) => {
      const { items, next } = this.world.page([...this.usagePlans.keys()].sort(), input.position);
      return { items: items.map((id) => ({ id })), ...(next ? { position: next } : {}) };
    });

    const stageOf = (restApiId: string, stageName: string) =>
      this.stages.get(`arn:aws:apigateway:us-east-1::/restapis/${restApiId}/stages/${stageName}`);
    this.mock.on(GetStageCommand).callsFake((input: { restApiId: string; stageName: string }) => {
      const stage = stageOf(input.restApiId, input.stageName);
      if (!stage) throw new NotFoundException({ message: 'Invalid stage identifier specified', $metadata: {} });
      return {
        stageName: input.stageName,
        ...(stage.deploymentId ? { deploymentId: stage.deploymentId } : {}),
        methodSettings: structuredClone(stage.methodSettings),
        webAclArn: stage.webAclArn,
        tags: stage.tags,
        ...stageSettingsOf(stage),
      };
    });
    this.mock.on(GetTagsCommand).callsFake((input: { resourceArn: string }) => {
      const stage = this.stages.get(input.resourceArn);
      if (!stage) throw new NotFoundException({ message: 'Invalid resource identifier specified', $metadata: {} });
      return { tags: { ...stage.tags } };
    });
    this.mock.on(UpdateStageCommand).callsFake((input: { restApiId: string; stageName: string; patchOperations: PatchOperation[] }) => {
      const stage = stageOf(input.restApiId, input.stageName);
      if (!stage) throw new NotFoundException({ message: 'Invalid stage identifier specified', $metadata: {} });
      for (const op of input.patchOperations) {
        if (patchStageSetting(stage, op, this.account)) continue;
        const m = /^\/([^/]+)\/([^/]+)\/throttling\/(rateLimit|burstLimit)$/.exec(op.path ?? '');
        if (!m || op.op !== 'replace' || typeof op.value !== 'string')
          throw new Error(`fake UpdateStage: unsupported ${JSON.stringify(op)}`);
        const setting = (stage.methodSettings[`${m[1]}/${m[2]}`] ??= {});
        if (m[3] === 'rateLimit') setting.throttlingRateLimit = Number(op.value);
        else setting.throttlingBurstLimit = Number(op.value);
      }
      this.world.writes.push(`UpdateStage ${input.restApiId}/${input.stageName}`);
      return {};
    });
    this.onStageSettingReads();
    this.mock.on(GetUsagePlanCommand).callsFake((input: { usagePlanId: string }) => {
      const plan = this.usagePlans.get(input.usagePlanId);
      if (!plan) throw new NotFoundException({ message: 'Invalid Usage Plan ID specified', $metadata: {} });
      return { id: input.usagePlanId, ...structuredClone(plan) };
    });
    this.mock.on(UpdateUsagePlanCommand).callsFake((input: { usagePlanId: string; patchOperations: PatchOperation[] }) => {
      const plan = this.usagePlans.get(input.usagePlanId);
      if (!plan) throw new NotFoundException({ message: 'Invalid Usage Plan ID specified', $metadata: {} });
      for (const op of input.patchOperations) {
        const value = String(op.value);
        if (op.path === '/throttle/rateLimit') (plan.throttle ??= {}).rateLimit = Number(value);
        else if (op.path === '/throttle/burstLimit') (plan.throttle ??= {}).burstLimit = Number(value);
        else if (op.path === '/quota/limit') (plan.quota ??= {}).limit = Number(value);
        else if (op.path === '/quota/period') (plan.quota ??= {}).period = value as QuotaSettings['period'];
        else throw new Error(`fake UpdateUsagePlan: unsupported ${JSON.stringify(op)}`);
      }
      this.world.writes.push(`UpdateUsagePlan ${input.usagePlanId}`);
      return {};
    });
    this.installRestApis();
  }

  // ---- REST APIs, their methods, authorizers, deployments and custom domain names
  // (apigateway-authorization, apigateway-domain-tls, apigateway-private-endpoint) ----

  /** REST APIs by id (region us-east-1); their stages are those of `stages`. */
  readonly restApis = new Map<string, FakeRestApi>();
  /** Custom domain names by name (public, `resourceOwner` SELF). */
  readonly domainNames = new Map<string, FakeDomainName>();
  /** Every CreateDeployment, in order. */
  readonly deployments: Array<{ restApiId: string; stageName?: string; description?: string }> = [];
  /**
   * Deployments by id: the API's methods as they were when it was made, as GetDeployment
   * (`embed=apisummary`) returns them (path → HTTP method → MethodSnapshot).
   */
  readonly snapshots = new Map<
    string,
    { restApiId: string; description?: string; apiSummary: Record<string, Record<string, MethodSnapshot>> }
  >();

  private installRestApis(): void {
    const apiOf = (restApiId: string) => {
      const api = this.restApis.get(restApiId);
      if (!api) throw new NotFoundException({ message: 'Invalid API identifier specified', $metadata: {} });
      return api;
    };
    this.mock.on(GetRestApiCommand).callsFake((input: { restApiId: string }) => {
      const api = apiOf(input.restApiId);
      return {
        id: input.restApiId,
        name: api.name ?? input.restApiId,
        endpointConfiguration: structuredClone(api.endpointConfiguration ?? { types: ['EDGE'] }),
        ...(api.policy !== undefined ? { policy: api.policy } : {}),
        disableExecuteApiEndpoint: api.disableExecuteApiEndpoint ?? false,
        tags: { ...api.tags },
      };
    });
    this.mock.on(GetResourcesCommand).callsFake((input: { restApiId: string; position?: string; embed?: string[] }) => {
      const { items, next } = this.world.page(apiOf(input.restApiId).resources, input.position);
      const embed = input.embed?.includes('methods') === true;
      return {
        items: items.map((r) => ({
          id: r.id,
          path: r.path,
          // without embed, GetResources names the methods but leaves their settings out
          resourceMethods: Object.fromEntries(
            Object.entries(r.methods).map(([verb, m]) => [verb, embed ? { httpMethod: verb, ...structuredClone(m) } : {}]),
          ),
        })),
        ...(next ? { position: next } : {}),
      };
    });
    this.mock.on(GetAuthorizersCommand).callsFake((input: { restApiId: string; position?: string }) => {
      const { items, next } = this.world.page(apiOf(input.restApiId).authorizers ?? [], input.position);
      return { items: items.map((id) => ({ id, name: id, type: 'TOKEN' })), ...(next ? { position: next } : {}) };
    });
    this.mock
      .on(UpdateMethodCommand)
      .callsFake((input: { restApiId: string; resourceId: string; httpMethod: string; patchOperations: PatchOperation[] }) => {
        const method = apiOf(input.restApiId).resources.find((r) => r.id === input.resourceId)?.methods[input.httpMethod];
        if (!method) throw new NotFoundException({ message: 'Invalid Method identifier specified', $metadata: {} });
        for (const op of input.patchOperations) {
          if (op.op !== 'replace' || typeof op.value !== 'string') throw new Error(`fake UpdateMethod: unsupported ${JSON.stringify(op)}`);
          if (op.path === '/authorizationType') method.authorizationType = op.value;
          else if (op.path === '/authorizerId') method.authorizerId = op.value;
          else if (op.path === '/apiKeyRequired') method.apiKeyRequired = op.value === 'true';
          else throw new Error(`fake UpdateMethod: unsupported ${JSON.stringify(op)}`);
        }
        this.world.writes.push(`UpdateMethod ${input.restApiId} ${input.resourceId} ${input.httpMethod}`);
        return {};
      });
    this.mock.on(CreateDeploymentCommand).callsFake((input: { restApiId: string; stageName?: string; description?: string }) => {
      const api = apiOf(input.restApiId);
      this.deployments.push({ restApiId: input.restApiId, stageName: input.stageName, description: input.description });
      this.world.writes.push(`CreateDeployment ${input.restApiId} ${input.stageName ?? ''}`.trim());
      const id = `d${this.deployments.length}`;
      this.snapshots.set(id, { restApiId: input.restApiId, description: input.description, apiSummary: apiSummaryOf(api) });
      if (input.stageName) {
        // a stage name that does not exist yet is created, serving the new deployment
        const arn = `arn:aws:apigateway:us-east-1::/restapis/${input.restApiId}/stages/${input.stageName}`;
        const stage = this.stages.get(arn) ?? { methodSettings: {} };
        stage.deploymentId = id;
        this.stages.set(arn, stage);
      }
      return { id, ...(input.description ? { description: input.description } : {}) };
    });
    this.mock.on(GetDeploymentCommand).callsFake((input: { restApiId: string; deploymentId: string; embed?: string[] }) => {
      const deployment = this.snapshots.get(input.deploymentId);
      if (!deployment || deployment.restApiId !== input.restApiId)
        throw new NotFoundException({ message: 'Invalid Deployment identifier specified', $metadata: {} });
      return {
        id: input.deploymentId,
        ...(deployment.description ? { description: deployment.description } : {}),
        ...(input.embed?.includes('apisummary') ? { apiSummary: structuredClone(deployment.apiSummary) } : {}),
      };
    });
    this.mock.on(UpdateRestApiCommand).callsFake((input: { restApiId: string; patchOperations: PatchOperation[] }) => {
      const api = apiOf(input.restApiId);
      for (const op of input.patchOperations) {
        const type = /^\/endpointConfiguration\/types\/([A-Z]+)$/.exec(op.path ?? '');
        const vpce = /^\/endpointConfiguration\/vpcEndpointIds$/.test(op.path ?? '');
        // GetRestApi returns the document escaped (quotes and slashes), as API Gateway does
        if (op.op === 'replace' && op.path === '/policy') api.policy = op.value?.replace(/"/g, '\\"').replace(/\//g, '\\/');
        else if (op.op === 'replace' && op.path === '/disableExecuteApiEndpoint') api.disableExecuteApiEndpoint = op.value === 'true';
        else if (op.op === 'replace' && type && op.value) {
          // the path names the type it replaces
          if (type[1] !== (api.endpointConfiguration?.types?.[0] ?? 'EDGE'))
            throw new BadRequestException({ message: `Invalid patch path ${op.path}`, $metadata: {} });
          api.endpointConfiguration = { ...api.endpointConfiguration, types: [op.value as EndpointType] };
        } else if (vpce && (op.op === 'add' || op.op === 'remove') && op.value) {
          const ids = new Set(api.endpointConfiguration?.vpcEndpointIds ?? []);
          for (const id of op.value.split(','))
            if (op.op === 'add') ids.add(id.trim());
            else ids.delete(id.trim());
          api.endpointConfiguration = { ...api.endpointConfiguration, vpcEndpointIds: [...ids] };
        } else throw new Error(`fake UpdateRestApi: unsupported ${JSON.stringify(op)}`);
      }
      this.world.writes.push(`UpdateRestApi ${input.restApiId}`);
      return {};
    });
    const domainOf = (domainName: string) => {
      const domain = this.domainNames.get(domainName);
      if (!domain) throw new NotFoundException({ message: 'Invalid domain name identifier specified', $metadata: {} });
      return domain;
    };
    const domainView = (domainName: string, d: FakeDomainName) => ({
      domainName,
      domainNameArn: `arn:aws:apigateway:us-east-1::/domainnames/${domainName}`,
      securityPolicy: d.securityPolicy,
      endpointConfiguration: { types: [d.endpointType ?? 'REGIONAL'] },
      ...(d.truststoreUri ? { mutualTlsAuthentication: { truststoreUri: d.truststoreUri, truststoreVersion: d.truststoreVersion } } : {}),
      tags: { ...d.tags },
    });
    this.mock.on(GetDomainNamesCommand).callsFake((input: { position?: string }) => {
      const { items, next } = this.world.page([...this.domainNames.keys()].sort(), input.position);
      return { items: items.map((name) => domainView(name, this.domainNames.get(name)!)), ...(next ? { position: next } : {}) };
    });
    this.mock
      .on(GetDomainNameCommand)
      .callsFake((input: { domainName: string }) => domainView(input.domainName, domainOf(input.domainName)));
    this.mock.on(UpdateDomainNameCommand).callsFake((input: { domainName: string; patchOperations: PatchOperation[] }) => {
      const domain = domainOf(input.domainName);
      for (const op of input.patchOperations) {
        if (op.op === 'replace' && op.path === '/securityPolicy' && op.value) domain.securityPolicy = op.value;
        else if (op.op === 'replace' && op.path === '/mutualTlsAuthentication/truststoreUri' && op.value) domain.truststoreUri = op.value;
        else if (op.op === 'replace' && op.path === '/mutualTlsAuthentication/truststoreVersion' && op.value)
          domain.truststoreVersion = op.value;
        else throw new Error(`fake UpdateDomainName: unsupported ${JSON.stringify(op)}`);
      }
      this.world.writes.push(`UpdateDomainName ${input.domainName}`);
      return {};
    });
  }

  // --- stage-level settings: GetAccount, GetClientCertificate (logging, client-certificate controls) ---
  private onStageSettingReads(): void {
    this.mock.on(GetAccountCommand).callsFake(() => ({ ...this.account }));
    this.mock.on(GetClientCertificateCommand).callsFake((input: { clientCertificateId: string }) => {
      const cert = this.clientCertificates.get(input.clientCertificateId);
      if (!cert) throw new NotFoundException({ message: 'Invalid Client Certificate identifier specified', $metadata: {} });
      return { clientCertificateId: input.clientCertificateId, ...structuredClone(cert) };
    });
  }
}

// --- stage-level settings of the logging, cache-encryption and client-certificate controls ---

/** The stage-level members GetStage returns (absent ones left out, as API Gateway does). */
function stageSettingsOf(stage: FakeStage) {
  return {
    ...(stage.accessLogSettings ? { accessLogSettings: { ...stage.accessLogSettings } } : {}),
    tracingEnabled: stage.tracingEnabled ?? false,
    cacheClusterEnabled: stage.cacheClusterEnabled ?? false,
    ...(stage.clientCertificateId ? { clientCertificateId: stage.clientCertificateId } : {}),
  };
}

const METHOD_BOOLEAN_SETTINGS: Record<string, 'dataTraceEnabled' | 'cacheDataEncrypted' | 'cachingEnabled' | 'metricsEnabled'> = {
  'logging/dataTrace': 'dataTraceEnabled',
  'caching/dataEncrypted': 'cacheDataEncrypted',
  'caching/enabled': 'cachingEnabled',
  'metrics/enabled': 'metricsEnabled',
};

function patchBoolean(value: string | undefined): boolean {
  if (value !== 'true' && value !== 'false') throw new Error(`fake UpdateStage: not a boolean ${JSON.stringify(value)}`);
  return value === 'true';
}

/**
 * One UpdateStage operation on the stage-level settings, as API Gateway applies it; `false`
 * when the path is not one of them (throttling is handled by the caller).
 */
function patchStageSetting(stage: FakeStage, op: PatchOperation, account: { cloudwatchRoleArn?: string }): boolean {
  const path = op.path ?? '';
  // API Gateway refuses to log to CloudWatch Logs before the account has its role
  const needsRole =
    (path === '/accessLogSettings/destinationArn' && (op.value ?? '').includes(':logs:')) ||
    (path.endsWith('/logging/loglevel') && op.value !== 'OFF');
  if (op.op === 'replace' && needsRole && !account.cloudwatchRoleArn)
    throw new BadRequestException({ message: 'CloudWatch Logs role ARN must be set in account settings to enable logging', $metadata: {} });
  if (op.op === 'remove' && path === '/accessLogSettings') {
    delete stage.accessLogSettings;
    return true;
  }
  if (op.op !== 'replace') return false;
  switch (path) {
    case '/accessLogSettings/destinationArn':
      stage.accessLogSettings = { ...stage.accessLogSettings, destinationArn: op.value };
      return true;
    case '/accessLogSettings/format':
      stage.accessLogSettings = { ...stage.accessLogSettings, format: op.value };
      return true;
    case '/tracingEnabled':
      stage.tracingEnabled = patchBoolean(op.value);
      return true;
    case '/cacheClusterEnabled':
      stage.cacheClusterEnabled = patchBoolean(op.value);
      return true;
    case '/clientCertificateId':
      if (op.value) stage.clientCertificateId = op.value;
      else delete stage.clientCertificateId;
      return true;
  }
  const m = /^\/([^/]+)\/([^/]+)\/([a-z]+\/[A-Za-z]+)$/.exec(path);
  if (!m) return false;
  const setting = (stage.methodSettings[`${m[1]}/${m[2]}`] ??= {});
  if (m[3] === 'logging/loglevel') {
    if (!['OFF', 'ERROR', 'INFO'].includes(op.value ?? '')) throw new Error(`fake UpdateStage: bad loglevel ${op.value}`);
    setting.loggingLevel = op.value;
    return true;
  }
  const field = METHOD_BOOLEAN_SETTINGS[m[3]!];
  if (!field) return false;
  setting[field] = patchBoolean(op.value);
  return true;
}

/** What a deployment keeps of each method: its authorization type and whether it needs an API key. */
export function apiSummaryOf(api: FakeRestApi): Record<string, Record<string, MethodSnapshot>> {
  return Object.fromEntries(
    api.resources.map((r) => [
      r.path,
      Object.fromEntries(
        Object.entries(r.methods).map(([verb, m]) => [
          verb,
          { authorizationType: m.authorizationType, apiKeyRequired: m.apiKeyRequired === true },
        ]),
      ),
    ]),
  );
}

/** A method's authorization settings, as GetResources (embed=methods) returns them. */
export interface FakeMethod {
  authorizationType: string;
  authorizerId?: string;
  apiKeyRequired?: boolean;
}

export interface FakeRestApi {
  name?: string;
  resources: Array<{ id: string; path: string; methods: Record<string, FakeMethod> }>;
  authorizers?: string[];
  endpointConfiguration?: EndpointConfiguration;
  /** The resource policy, a JSON string as GetRestApi returns it. */
  policy?: string;
  disableExecuteApiEndpoint?: boolean;
  tags?: Record<string, string>;
}

export interface FakeDomainName {
  securityPolicy: string;
  endpointType?: string;
  truststoreUri?: string;
  truststoreVersion?: string;
  tags?: Record<string, string>;
}
