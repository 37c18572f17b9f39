import { SFNClient } from '@aws-sdk/client-sfn';
import { createClientFactory } from '../../core/aws';
import { InMemoryFixLedger } from '../../core/fix-budget';
import { InMemoryLastKnownGood } from '../../core/last-known-good';
import type { Policy } from '../../core/policy';
import { InMemoryApprovalStore, InMemoryFindingsStore } from '../../core/stores';
import { telemetry } from '../../handlers/telemetry';
import type { GuardDeps } from '../../handlers/deps';
import { FakeApiGateway } from './apigateway';
import { FakeCloudTrail } from './cloudtrail';
import { FakeConfigService } from './config-service';
import { FakeKms } from './kms';
import { FakeS3 } from './s3';
import { FakeS3Control } from './s3-control';
import { FakeWafv2 } from './wafv2';
import { FakeWorld } from './world';

export { s3Error } from './s3';
export { FakeSts } from './sts';

/**
 * A small in-memory AWS behind mocked SDK v3 clients, one fake per service (test/fakes/<service>.ts):
 * S3 default encryption, API Gateway stages and usage plans, WAFv2 associations, KMS aliases,
 * CloudTrail trails, Config recorders and delivery channels (each account's S3 buckets its own),
 * S3 Control's account-level Block Public Access.
 * STS into member accounts is `FakeSts` (test/fakes/sts.ts), made apart: tests that mock STS
 * themselves keep their own.
 * Writes change the state and are logged, so a test sees what a fix really did. A control on a
 * new service adds its fake beside these and one line here.
 */
export class FakeAws {
  readonly world = new FakeWorld();
  readonly services = (() => {
    const apiGateway = new FakeApiGateway(this.world);
    return {
      s3: new FakeS3(this.world),
      apiGateway,
      wafv2: new FakeWafv2(this.world, apiGateway),
      kms: new FakeKms(this.world),
      cloudTrail: new FakeCloudTrail(this.world),
      configService: new FakeConfigService(this.world),
      s3Control: new FakeS3Control(this.world),
    };
  })();
  readonly buckets = this.services.s3.buckets;
  readonly stages = this.services.apiGateway.stages;
  readonly usagePlans = this.services.apiGateway.usagePlans;
  readonly restApis = this.services.apiGateway.restApis;
  readonly domainNames = this.services.apiGateway.domainNames;
  readonly deployments = this.services.apiGateway.deployments;
  readonly apiGatewaySnapshots = this.services.apiGateway.snapshots;
  readonly webAcls = this.services.wafv2.webAcls;
  readonly firewallManagerAcls = this.services.wafv2.firewallManagerAcls;
  readonly aliases = this.services.kms.aliases;
  readonly keys = this.services.kms.keys;
  readonly trails = this.services.cloudTrail.trails;
  readonly accountBlocks = this.services.s3Control.accountBlocks;
  readonly writes = this.world.writes;
  readonly s3 = this.services.s3.mock;
  readonly apiGateway = this.services.apiGateway.mock;
  readonly wafv2 = this.services.wafv2.mock;
  readonly kms = this.services.kms.mock;
  readonly cloudTrail = this.services.cloudTrail.mock;
  readonly configService = this.services.configService.mock;
  readonly s3Control = this.services.s3Control.mock;

  /** Reads of an association after it was written that still show the old one (eventual consistency). */
  get associationLag(): number {
    return this.services.wafv2.associationLag;
  }
  set associationLag(reads: number) {
    this.services.wafv2.associationLag = reads;
  }

  /** Items per page of the list calls, to exercise pagination. */
  get pageSize(): number {
    return this.world.pageSize;
  }
  set pageSize(items: number) {
    this.world.pageSize = items;
  }

  restore(): void {
    for (const service of Object.values(this.services)) service.mock.restore();
  }
}

/** Guard deps over in-memory stores and mocked clients, as the detector and sweep Lambdas get them. */
export function inMemoryDeps(policy: Policy, clock: () => Date): GuardDeps {
  const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
  const clients = createClientFactory({
    region: 'us-east-1',
    regions: policy.regions.length > 0 ? policy.regions : ['us-east-1'],
    credentials,
  }).clientsFor({ account: '111122223333' });
  return {
    policy,
    clients,
    // a single-account guard: its own clients and the base policy whatever the account
    clientsFor: () => clients,
    policyFor: async () => policy,
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

export { FakeStepFunctions, uniqueExecutionNames, type FakeExecution } from './stepfunctions';
