import {
  APIGatewayClient,
  GetRestApisCommand,
  GetStageCommand,
  GetStagesCommand,
  GetTagsCommand,
  GetUsagePlanCommand,
  GetUsagePlansCommand,
  NotFoundException,
  UpdateStageCommand,
  UpdateUsagePlanCommand,
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
}

export interface FakePlan {
  throttle?: ThrottleSettings;
  quota?: QuotaSettings;
}

/** API Gateway REST stages (keyed by ARN) and usage plans (keyed by id), behind a mocked APIGatewayClient. */
export class FakeApiGateway {
  readonly stages = new Map<string, FakeStage>();
  readonly usagePlans = new Map<string, FakePlan>();
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
}
