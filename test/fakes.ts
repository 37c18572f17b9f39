import {
  APIGatewayClient,
  GetRestApisCommand,
  GetStageCommand,
  GetStagesCommand,
  GetTagsCommand,
  GetUsagePlansCommand,
  GetUsagePlanCommand,
  NotFoundException,
  UpdateStageCommand,
  UpdateUsagePlanCommand,
  type MethodSetting,
  type PatchOperation,
  type QuotaSettings,
  type ThrottleSettings,
} from '@aws-sdk/client-api-gateway';
import { DescribeKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import {
  GetBucketEncryptionCommand,
  GetBucketTaggingCommand,
  ListBucketsCommand,
  PutBucketEncryptionCommand,
  S3Client,
  S3ServiceException,
  type ServerSideEncryptionRule,
} from '@aws-sdk/client-s3';
import { AssociateWebACLCommand, GetWebACLCommand, GetWebACLForResourceCommand, WAFNonexistentItemException, WAFV2Client } from '@aws-sdk/client-wafv2';
import { DescribeExecutionCommand, ExecutionAlreadyExists, ExecutionDoesNotExist, SFNClient, StartExecutionCommand, type SFNClientResolvedConfig, type ServiceInputTypes, type ServiceOutputTypes } from '@aws-sdk/client-sfn';
import { mockClient, type AwsStub } from 'aws-sdk-client-mock';
import { createClientFactory } from '../core/aws';
import { InMemoryFixLedger } from '../core/fix-budget';
import { InMemoryLastKnownGood } from '../core/last-known-good';
import type { Policy } from '../core/policy';
import { InMemoryApprovalStore, InMemoryFindingsStore } from '../core/stores';
import { telemetry } from '../handlers/telemetry';
import type { GuardDeps } from '../handlers/deps';

export function s3Error(name: string, status = 404): S3ServiceException {
  return new S3ServiceException({ name, $fault: 'client', $metadata: { httpStatusCode: status }, message: name });
}

interface FakeBucket {
  region?: string;
  rule?: ServerSideEncryptionRule;
  tags?: Record<string, string>;
}
interface FakeStage {
  methodSettings: Record<string, MethodSetting>;
  webAclArn?: string;
  tags?: Record<string, string>;
}
interface FakePlan {
  throttle?: ThrottleSettings;
  quota?: QuotaSettings;
}

/**
 * A small in-memory AWS behind mocked SDK v3 clients: S3 default encryption, API Gateway
 * stages and usage plans, WAFv2 associations, KMS aliases. Writes change the state and are
 * logged, so a test sees what a fix really did.
 */
export class FakeAws {
  readonly buckets = new Map<string, FakeBucket>();
  readonly stages = new Map<string, FakeStage>();
  readonly usagePlans = new Map<string, FakePlan>();
  readonly webAcls = new Set<string>();
  /** Web ACLs WAF reports as `ManagedByFirewallManager`. */
  readonly firewallManagerAcls = new Set<string>();
  readonly aliases = new Map<string, string>();
  readonly writes: string[] = [];
  readonly s3 = mockClient(S3Client);
  readonly apiGateway = mockClient(APIGatewayClient);
  readonly wafv2 = mockClient(WAFV2Client);
  readonly kms = mockClient(KMSClient);
  /** Reads of an association after it was written that still show the old one (eventual consistency). */
  associationLag = 0;
  /** Items per page of the list calls, to exercise pagination. */
  pageSize = 2;

  constructor() {
    this.install();
  }

  restore(): void {
    for (const m of [this.s3, this.apiGateway, this.wafv2, this.kms]) m.restore();
  }

  /** One page of `items` after the `token` position, and the next token. */
  private page<T>(items: T[], token: string | undefined): { items: T[]; next?: string } {
    const start = token ? Number(token) : 0;
    const end = start + this.pageSize;
    return { items: items.slice(start, end), ...(end < items.length ? { next: String(end) } : {}) };
  }

  private install(): void {
    this.s3.on(ListBucketsCommand).callsFake((input: { ContinuationToken?: string }) => {
      const { items, next } = this.page([...this.buckets.keys()].sort(), input.ContinuationToken);
      return { Buckets: items.map((Name) => ({ Name, BucketRegion: this.buckets.get(Name)!.region ?? 'us-east-1' })), ...(next ? { ContinuationToken: next } : {}) };
    });
    const stagesByApi = () => {
      const apis = new Map<string, string[]>();
      for (const arn of this.stages.keys()) {
        const m = /\/restapis\/([^/]+)\/stages\/([^/]+)$/.exec(arn)!;
        apis.set(m[1]!, [...(apis.get(m[1]!) ?? []), m[2]!]);
      }
      return apis;
    };
    this.apiGateway.on(GetRestApisCommand).callsFake((input: { position?: string }) => {
      const { items, next } = this.page([...stagesByApi().keys()].sort(), input.position);
      return { items: items.map((id) => ({ id })), ...(next ? { position: next } : {}) };
    });
    this.apiGateway.on(GetStagesCommand).callsFake((input: { restApiId: string }) => ({ item: (stagesByApi().get(input.restApiId) ?? []).map((stageName) => ({ stageName })) }));
    this.apiGateway.on(GetUsagePlansCommand).callsFake((input: { position?: string }) => {
      const { items, next } = this.page([...this.usagePlans.keys()].sort(), input.position);
      return { items: items.map((id) => ({ id })), ...(next ? { position: next } : {}) };
    });
    this.s3.on(GetBucketEncryptionCommand).callsFake((input: { Bucket: string }) => {
      const bucket = this.buckets.get(input.Bucket);
      if (!bucket) throw s3Error('NoSuchBucket');
      if (!bucket.rule) throw s3Error('ServerSideEncryptionConfigurationNotFoundError');
      return { ServerSideEncryptionConfiguration: { Rules: [structuredClone(bucket.rule)] } };
    });
    this.s3.on(GetBucketTaggingCommand).callsFake((input: { Bucket: string }) => {
      const bucket = this.buckets.get(input.Bucket);
      if (!bucket) throw s3Error('NoSuchBucket');
      if (!bucket.tags) throw s3Error('NoSuchTagSet');
      return { TagSet: Object.entries(bucket.tags).map(([Key, Value]) => ({ Key, Value })) };
    });
    this.s3.on(PutBucketEncryptionCommand).callsFake((input: { Bucket: string; ServerSideEncryptionConfiguration: { Rules: ServerSideEncryptionRule[] } }) => {
      const bucket = this.buckets.get(input.Bucket);
      if (!bucket) throw s3Error('NoSuchBucket');
      bucket.rule = structuredClone(input.ServerSideEncryptionConfiguration.Rules[0]);
      this.writes.push(`PutBucketEncryption ${input.Bucket}`);
      return {};
    });

    this.wafv2.on(GetWebACLForResourceCommand).callsFake((input: { ResourceArn: string }) => {
      const stage = this.stages.get(input.ResourceArn);
      if (!stage) throw new WAFNonexistentItemException({ message: 'no such resource', $metadata: {} });
      if (this.associationLag > 0) {
        this.associationLag--;
        return {};
      }
      return stage.webAclArn ? { WebACL: { ARN: stage.webAclArn, Name: stage.webAclArn.split('/')[2], Id: 'id' } } : {};
    });
    this.wafv2.on(GetWebACLCommand).callsFake((input: { Name: string; Scope: string; Id: string }) => {
      const arn = [...this.webAcls].find((a) => a.endsWith(`:regional/webacl/${input.Name}/${input.Id}`));
      if (!arn || input.Scope !== 'REGIONAL') throw new WAFNonexistentItemException({ message: 'no such item', $metadata: {} });
      return { WebACL: { ARN: arn, Name: input.Name, Id: input.Id, ManagedByFirewallManager: this.firewallManagerAcls.has(arn) }, LockToken: 'token' };
    });
    this.wafv2.on(AssociateWebACLCommand).callsFake((input: { WebACLArn: string; ResourceArn: string }) => {
      const stage = this.stages.get(input.ResourceArn);
      if (!stage || !this.webAcls.has(input.WebACLArn)) throw new WAFNonexistentItemException({ message: 'no such item', $metadata: {} });
      stage.webAclArn = input.WebACLArn;
      this.writes.push(`AssociateWebACL ${input.ResourceArn}`);
      return {};
    });

    const stageOf = (restApiId: string, stageName: string) => this.stages.get(`arn:aws:apigateway:us-east-1::/restapis/${restApiId}/stages/${stageName}`);
    this.apiGateway.on(GetStageCommand).callsFake((input: { restApiId: string; stageName: string }) => {
      const stage = stageOf(input.restApiId, input.stageName);
      if (!stage) throw new NotFoundException({ message: 'Invalid stage identifier specified', $metadata: {} });
      return { stageName: input.stageName, methodSettings: structuredClone(stage.methodSettings), webAclArn: stage.webAclArn, tags: stage.tags };
    });
    this.apiGateway.on(GetTagsCommand).callsFake((input: { resourceArn: string }) => {
      const stage = this.stages.get(input.resourceArn);
      if (!stage) throw new NotFoundException({ message: 'Invalid resource identifier specified', $metadata: {} });
      return { tags: { ...stage.tags } };
    });
    this.apiGateway.on(UpdateStageCommand).callsFake((input: { restApiId: string; stageName: string; patchOperations: PatchOperation[] }) => {
      const stage = stageOf(input.restApiId, input.stageName);
      if (!stage) throw new NotFoundException({ message: 'Invalid stage identifier specified', $metadata: {} });
      for (const op of input.patchOperations) {
        const m = /^\/([^/]+)\/([^/]+)\/throttling\/(rateLimit|burstLimit)$/.exec(op.path ?? '');
        if (!m || op.op !== 'replace' || typeof op.value !== 'string') throw new Error(`fake UpdateStage: unsupported ${JSON.stringify(op)}`);
        const setting = (stage.methodSettings[`${m[1]}/${m[2]}`] ??= {});
        if (m[3] === 'rateLimit') setting.throttlingRateLimit = Number(op.value);
        else setting.throttlingBurstLimit = Number(op.value);
      }
      this.writes.push(`UpdateStage ${input.restApiId}/${input.stageName}`);
      return {};
    });
    this.apiGateway.on(GetUsagePlanCommand).callsFake((input: { usagePlanId: string }) => {
      const plan = this.usagePlans.get(input.usagePlanId);
      if (!plan) throw new NotFoundException({ message: 'Invalid Usage Plan ID specified', $metadata: {} });
      return { id: input.usagePlanId, ...structuredClone(plan) };
    });
    this.apiGateway.on(UpdateUsagePlanCommand).callsFake((input: { usagePlanId: string; patchOperations: PatchOperation[] }) => {
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
      this.writes.push(`UpdateUsagePlan ${input.usagePlanId}`);
      return {};
    });

    this.kms.on(DescribeKeyCommand).callsFake((input: { KeyId: string }) => {
      const arn = input.KeyId.startsWith('arn:aws:kms') && input.KeyId.includes(':key/') ? input.KeyId : this.aliases.get(input.KeyId);
      if (!arn) throw new Error(`fake KMS: unknown key ${input.KeyId}`);
      return { KeyMetadata: { KeyId: arn.split('/')[1], Arn: arn } };
    });
  }
}

/** Guard deps over in-memory stores and mocked clients, as the detector and sweep Lambdas get them. */
export function inMemoryDeps(policy: Policy, clock: () => Date): GuardDeps {
  const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
  return {
    policy,
    clients: createClientFactory({ region: 'us-east-1', regions: policy.regions.length > 0 ? policy.regions : ['us-east-1'], credentials }).clientsFor({ account: '111122223333' }),
    findings: new InMemoryFindingsStore(),
    approvals: new InMemoryApprovalStore(),
    lastKnownGood: new InMemoryLastKnownGood(),
    fixes: new InMemoryFixLedger(),
    sfn: new SFNClient({ region: 'us-east-1', credentials }),
    config: { stateMachineArn: 'arn:aws:states:us-east-1:111122223333:stateMachine:rampart' },
    clock,
    telemetry,
  } as unknown as GuardDeps;
}

export interface FakeExecution {
  name: string;
  input: string;
  status: 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';
}

/**
 * Step Functions executions, as the API behaves: a name is taken for good (90 days); starting
 * a running execution again with the same input returns it (idempotent), anything else is
 * ExecutionAlreadyExists; DescribeExecution by ARN, ExecutionDoesNotExist for an unknown one.
 */
export class FakeStepFunctions {
  readonly executions = new Map<string, FakeExecution>();
  /** Called with each execution newly started (e.g. to run it on the local workflow). */
  onStart?: (execution: FakeExecution) => void;
  /** Wraps each call (fault injection): `run` is the call as the service does it. */
  intercept?: (call: 'sfn:StartExecution' | 'sfn:DescribeExecution', run: () => unknown) => unknown;

  constructor(sfn: AwsStub<ServiceInputTypes, ServiceOutputTypes, SFNClientResolvedConfig>) {
    const arnOf = (stateMachineArn: string, name: string) => `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
    const around = (call: 'sfn:StartExecution' | 'sfn:DescribeExecution', run: () => unknown) => (this.intercept ? this.intercept(call, run) : run());
    sfn.on(StartExecutionCommand).callsFake((input: { stateMachineArn: string; name: string; input: string }) => around('sfn:StartExecution', () => {
      const existing = this.executions.get(input.name);
      if (existing && !(existing.status === 'RUNNING' && existing.input === input.input)) {
        throw new ExecutionAlreadyExists({ message: `Execution Already Exists: '${arnOf(input.stateMachineArn, input.name)}'`, $metadata: {} });
      }
      if (!existing) {
        const execution: FakeExecution = { name: input.name, input: input.input, status: 'RUNNING' };
        this.executions.set(input.name, execution);
        this.onStart?.(execution);
      }
      return { executionArn: arnOf(input.stateMachineArn, input.name), startDate: new Date() };
    }));
    sfn.on(DescribeExecutionCommand).callsFake((input: { executionArn: string }) => around('sfn:DescribeExecution', () => {
      const name = input.executionArn.split(':').at(-1)!;
      const execution = this.executions.get(name);
      if (!execution) throw new ExecutionDoesNotExist({ message: `Execution Does Not Exist: '${input.executionArn}'`, $metadata: {} });
      return { executionArn: input.executionArn, name, status: execution.status, input: execution.input, startDate: new Date() };
    }));
  }

  /** The names of the executions started, in order. */
  get names(): string[] {
    return [...this.executions.keys()];
  }
}

/** Step Functions refuses a second execution with a name it has seen: the last line of dedupe. */
export function uniqueExecutionNames(sfn: AwsStub<ServiceInputTypes, ServiceOutputTypes, SFNClientResolvedConfig>): Set<string> {
  const fake = new FakeStepFunctions(sfn);
  const names = new Set<string>();
  fake.onStart = (e) => names.add(e.name);
  return names;
}
