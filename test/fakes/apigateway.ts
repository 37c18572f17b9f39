import {
  APIGatewayClient,
  BadRequestException,
  GetAccountCommand,
  GetClientCertificateCommand,
  GetRestApisCommand,
  GetStageCommand,
  GetStagesCommand,
  GetTagsCommand,
  GetUsagePlanCommand,
  GetUsagePlansCommand,
  NotFoundException,
  UpdateStageCommand,
  UpdateUsagePlanCommand,
  type AccessLogSettings,
  type MethodSetting,
  type PatchOperation,
  type QuotaSettings,
  type ThrottleSettings,
} from '@aws-sdk/client-api-gateway';
import { mockClient } from 'aws-sdk-client-mock';
import type { FakeWorld } from './world';

export interface FakeStage {
  methodSettings: Record<string, MethodSetting>;
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
      const { items, next } = this.world.page([...stagesByApi().keys()].sort(), input.position);
      return { items: items.map((id) => ({ id })), ...(next ? { position: next } : {}) };
    });
    this.mock.on(GetStagesCommand).callsFake((input: { restApiId: string }) => ({
      item: (stagesByApi().get(input.restApiId) ?? []).map((stageName) => ({ stageName })),
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
