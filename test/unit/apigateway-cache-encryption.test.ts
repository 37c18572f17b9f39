import { GetStageCommand, UpdateStageCommand } from '@aws-sdk/client-api-gateway';
import { createAwsClients } from '../../core/aws';
import type { Finding } from '../../core/finding';
import { InMemoryFixLedger } from '../../core/fix-budget';
import { InMemoryLastKnownGood } from '../../core/last-known-good';
import { ALL_CONTROLS, DETECTORS } from '../../controls';
import { parsePolicy } from '../../controls/policy';
import { stageRef } from '../../detectors/apigateway-resources';
import { apigatewayCacheEncryption, evaluateCacheEncryption, type CacheEncryptionState } from '../../detectors/apigateway-cache-encryption';
import { judgeEvent } from '../../detectors/judge';
import { EventRouter } from '../../detectors/router';
import { sweep, type SweepItem } from '../../detectors/sweep';
import { planCacheEncryption } from '../../remediators/apigateway-cache-encryption';
import { remediate, type RemediationContext } from '../../remediators/remediate';
import { FakeAws } from '../fakes';
import { fixtureEvent } from '../helpers';

const ACCOUNT = '111122223333';
const CONTROL = 'apigateway-cache-encryption' as const;
const LIVE = stageRef('us-east-1', 'm7n8o9p0q1', 'live', ACCOUNT);
const POLICY = parsePolicy({ controls: { [CONTROL]: {} } });
const router = new EventRouter(DETECTORS);
const finding = { resourceArn: LIVE.arn } as Finding;

function judged(name: string) {
  return judgeEvent(fixtureEvent(name), POLICY, router).judgements.filter((j) => j.control === CONTROL);
}

const stage = (
  cacheClusterEnabled: boolean | undefined,
  methods: CacheEncryptionState['methods'],
  complete = true,
): CacheEncryptionState => ({
  cacheClusterEnabled,
  methods,
  complete,
});

describe('apigateway-cache-encryption evaluate', () => {
  it('accepts a stage without a cache cluster, whatever its method settings say', () => {
    expect(evaluateCacheEncryption(stage(false, { '*/*': { cachingEnabled: true, cacheDataEncrypted: false } }))).toEqual({
      status: 'compliant',
    });
  });

  it('flags a cache cluster whose stage-wide setting does not encrypt, even with no method settings at all', () => {
    expect(evaluateCacheEncryption(stage(true, {}))).toEqual({
      status: 'violation',
      observed: { cacheClusterEnabled: true, unencrypted: ['*/*'] },
      desired: { cacheDataEncrypted: true },
      reason: 'cached responses of the stage (*/*) are not encrypted',
    });
  });

  it('flags a method override that caches unencrypted, not one that does not cache', () => {
    const state = stage(true, {
      '*/*': { cachingEnabled: false, cacheDataEncrypted: true },
      '~1orders/GET': { cachingEnabled: true, cacheDataEncrypted: false },
      '~1health/GET': { cachingEnabled: false, cacheDataEncrypted: false },
    });

    expect(evaluateCacheEncryption(state)).toMatchObject({
      status: 'violation',
      reason: 'cached responses of ~1orders/GET are not encrypted',
    });
  });

  it('says unknown when an event does not say whether the cache is on', () => {
    expect(evaluateCacheEncryption(stage(undefined, { '*/*': { cacheDataEncrypted: false } }, false)).status).toBe('unknown');
  });
});

describe('apigateway-cache-encryption from events', () => {
  it('reads UpdateStage patch strings: the cache turned on with dataEncrypted "false" is a finding; the plan encrypts', () => {
    const [j] = judged('apigateway-UpdateStage.cache-unencrypted-constructed.json');

    expect(j).toMatchObject({ outcome: 'violation', ref: { arn: LIVE.arn } });
    const plan = planCacheEncryption(finding, (j as { state: CacheEncryptionState }).state);
    expect(plan.change).toEqual({
      service: 'apigateway',
      operation: 'UpdateStage',
      region: 'us-east-1',
      input: {
        restApiId: 'm7n8o9p0q1',
        stageName: 'live',
        patchOperations: [{ op: 'replace', path: '/*/*/caching/dataEncrypted', value: 'true' }],
      },
    });
  });

  it('judges a Config stage item: stage-wide and per-method caching unencrypted, both fixed', () => {
    const [j] = judged('config-ConfigurationItemChangeNotification.stage-cached-unencrypted-constructed.json');

    expect(j?.outcome).toBe('violation');
    expect(planCacheEncryption(finding, (j as { state: CacheEncryptionState }).state).change?.input.patchOperations).toEqual([
      { op: 'replace', path: '/*/*/caching/dataEncrypted', value: 'true' },
      { op: 'replace', path: '/~1orders/GET/caching/dataEncrypted', value: 'true' },
    ]);
  });

  it('knows a new stage without a cache is compliant, and an UpdateStage of other settings is unknown', () => {
    expect(judged('apigateway-CreateStage.rest-constructed.json')).toMatchObject([{ outcome: 'compliant' }]);
    expect(judged('apigateway-UpdateStage.throttle-over-constructed.json')).toMatchObject([
      {
        outcome: 'unknown',
        reason: 'UpdateStage patches /*/*/throttling/rateLimit, /*/*/throttling/burstLimit; the cache settings are not in the event',
      },
    ]);
  });
});

describe('apigateway-cache-encryption against the API Gateway fake', () => {
  let aws: FakeAws;
  let ctx: RemediationContext;

  beforeEach(() => {
    aws = new FakeAws();
    aws.stages.set(LIVE.arn, {
      cacheClusterEnabled: true,
      methodSettings: {
        '*/*': { cachingEnabled: true, cacheDataEncrypted: false, cacheTtlInSeconds: 300 },
        '~1orders/GET': { cachingEnabled: true, cacheDataEncrypted: false, cacheTtlInSeconds: 60 },
      },
    });
    aws.stages.set(stageRef('us-east-1', 'm7n8o9p0q1', 'nocache').arn, { methodSettings: {} });
    ctx = {
      controls: ALL_CONTROLS,
      policy: POLICY,
      clients: createAwsClients({ region: 'us-east-1', regions: ['us-east-1'], credentials: { accessKeyId: 'a', secretAccessKey: 'b' } }),
      lastKnownGood: new InMemoryLastKnownGood(),
      fixes: new InMemoryFixLedger(),
      clock: () => new Date('2024-06-03T16:00:00Z'),
      account: ACCOUNT,
      verifyDelayMs: 1,
      sleep: async () => undefined,
    };
  });
  afterEach(() => aws.restore());

  it('the sweep finds the cached stage only; the fix encrypts both settings and keeps the cache and its TTLs', async () => {
    const items: SweepItem[] = [];
    for await (const item of sweep(POLICY, ctx.clients, { detectors: [apigatewayCacheEncryption], sweepId: 's-1', account: ACCOUNT }))
      items.push(item);
    const findings = items.flatMap((i) => (i.kind === 'judged' && i.judgement.outcome === 'violation' ? [i.judgement.finding] : []));
    expect(findings.map((f) => f.resourceArn)).toEqual([LIVE.arn]);

    const outcome = await remediate(findings[0]!, ctx);

    expect(outcome).toMatchObject({ outcome: 'remediated' });
    expect(aws.apiGateway.commandCalls(UpdateStageCommand)).toHaveLength(1);
    const read = await ctx.clients
      .get((await import('@aws-sdk/client-api-gateway')).APIGatewayClient)
      .send(new GetStageCommand({ restApiId: 'm7n8o9p0q1', stageName: 'live' }));
    expect(read).toMatchObject({
      cacheClusterEnabled: true,
      methodSettings: {
        '*/*': { cachingEnabled: true, cacheDataEncrypted: true, cacheTtlInSeconds: 300 },
        '~1orders/GET': { cachingEnabled: true, cacheDataEncrypted: true, cacheTtlInSeconds: 60 },
      },
    });
  });
});
