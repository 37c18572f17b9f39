import { APIGatewayClient, GetStageCommand, UpdateStageCommand } from '@aws-sdk/client-api-gateway';
import { GetBucketEncryptionCommand, PutBucketEncryptionCommand, S3Client } from '@aws-sdk/client-s3';
import { PublishCommand } from '@aws-sdk/client-sns';
import { AssociateWebACLCommand, GetWebACLForResourceCommand, WAFV2Client } from '@aws-sdk/client-wafv2';
import type { ClientClass } from '../../core/aws';
import { parseEvent } from '../../core/events';
import type { Finding } from '../../core/finding';
import { findingKey } from '../../core/resource-key';
import type { Policy } from '../../core/policy';
import type { InMemoryFindingsStore } from '../../core/stores';
import { DETECTORS } from '../../controls';
import { judgeEvent } from '../../detectors/judge';
import { EventRouter } from '../../detectors/router';
import { FakeAws } from '../fakes';
import { ARTIFACTS_KEY, RAMPART_GUARD_ACL, fixture, policy as makePolicy } from '../helpers';
import { LocalWorkflow, synthesizeWorkflow, type RunResult, type SynthesizedWorkflow } from '../workflow/harness';
import { recordChaos, type ChaosOutcome } from './tally';

/**
 * The fault matrix of the remediation workflow: each AWS call on its path (SNS Publish, the
 * finding's DynamoDB reads and writes in Notify and Apply, the fix ledger, last-known-good, the
 * control's own write, the read that verifies it) fails once (throttled, 5xx, timed out) or for
 * good, while the synthesized state machine runs the real handlers over the stateful fakes.
 * Each case asserts how the finding ends, that its outcome is what happened to the resource,
 * and that a failure not recovered is kept (dead-letter queue) or alarmed (a failed execution);
 * and records itself for `npm run chaos`.
 */

const POLICY: Policy = makePolicy({
  controls: {
    's3-default-encryption': { algorithm: 'aws:kms', kmsKeyId: ARTIFACTS_KEY, bucketKeyEnabled: true },
    'apigateway-waf': { defaultWebAclArn: RAMPART_GUARD_ACL },
    // low risk here: the approval path has its own matrix
    'apigateway-throttling': { rateLimit: 1000, burstLimit: 500, risk: 'low' },
  },
});
const PROD = 'arn:aws:apigateway:us-east-1::/restapis/a1b2c3d4e5/stages/prod';
const router = new EventRouter(DETECTORS);

type Scenario = 's3' | 'waf' | 'throttling';
const SCENARIOS: Record<Scenario, { fixture: string; compliant: (aws: FakeAws) => boolean }> = {
  s3: {
    fixture: 's3-DeleteBucketEncryption-constructed.json',
    compliant: (aws) => {
      const rule = aws.buckets.get('rampart-demo-logs')?.rule?.ApplyServerSideEncryptionByDefault;
      return rule?.SSEAlgorithm === 'aws:kms' && rule.KMSMasterKeyID === ARTIFACTS_KEY;
    },
  },
  waf: {
    fixture: 'wafv2-AssociateWebACL.other-acl-adapted.json',
    compliant: (aws) => aws.stages.get(PROD)?.webAclArn === RAMPART_GUARD_ACL,
  },
  throttling: {
    fixture: 'apigateway-UpdateStage.throttle-over-constructed.json',
    compliant: (aws) => {
      const s = aws.stages.get(PROD)?.methodSettings['*/*'];
      return s?.throttlingRateLimit === 1000 && s.throttlingBurstLimit === 500;
    },
  },
};

const FAULTS = ['throttling-once', '5xx-once', 'timeout-once', 'always'] as const;
type Fault = (typeof FAULTS)[number];

/** The errors each service really returns (names from the SDK's error classes and the API references). */
const SERVICE_ERRORS = {
  sns: { throttle: ['ThrottledException', 400], server: ['InternalErrorException', 500] },
  dynamodb: { throttle: ['ProvisionedThroughputExceededException', 400], server: ['InternalServerError', 500] },
  s3: { throttle: ['SlowDown', 503], server: ['InternalError', 500] },
  wafv2: { throttle: ['WAFLimitsExceededException', 400], server: ['WAFInternalErrorException', 500] },
  apigateway: { throttle: ['TooManyRequestsException', 429], server: ['ServiceUnavailableException', 503] },
} as const;
type Service = keyof typeof SERVICE_ERRORS;

function errorOf(service: Service, fault: Fault): Error {
  // the SDK's node HTTP handler names a request or socket timeout TimeoutError
  if (fault === 'timeout-once') return Object.assign(new Error('Connection timed out after 3000 ms'), { name: 'TimeoutError' });
  const [name, status] = fault === 'throttling-once' ? SERVICE_ERRORS[service].throttle : SERVICE_ERRORS[service].server;
  return Object.assign(new Error(`${name} (injected)`), {
    name,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status },
  });
}

/** Throws the fault's error on the matching calls: the first one only, or every one. */
function injector(service: Service, fault: Fault) {
  let fired = 0;
  return {
    hit(): void {
      if (fault !== 'always' && fired > 0) return;
      fired++;
      throw errorOf(service, fault);
    },
    get fired() {
      return fired;
    },
  };
}

type Injector = ReturnType<typeof injector>;

/** The deps' clients, with the `Client` ones failing as told for one command. */
function faultyService<C extends { send: (...args: never[]) => unknown }>(
  local: LocalWorkflow,
  Client: ClientClass<C>,
  command: abstract new (...args: never[]) => unknown,
  faults: Injector,
  when?: () => boolean,
): void {
  const clients = local.deps.clients;
  const get = clients.get.bind(clients);
  local.deps.clients = {
    ...clients,
    get: <T>(K: ClientClass<T>, region?: string): T =>
      K === (Client as unknown) ? (faultyClient(get(Client, region), command, faults, when) as unknown as T) : get(K, region),
  };
}

/** A client whose `send` fails as told for one command (when `when` holds), and works otherwise. */
function faultyClient<C extends { send: (...args: never[]) => unknown }>(
  client: C,
  command: abstract new (...args: never[]) => unknown,
  faults: Injector,
  when: () => boolean = () => true,
): C {
  return new Proxy(client, {
    get(target, property, receiver) {
      if (property !== 'send') return Reflect.get(target, property, receiver);
      return async (cmd: unknown, ...rest: unknown[]) => {
        if (cmd instanceof command && when()) faults.hit();
        return (target.send as (...a: unknown[]) => unknown).call(target, cmd, ...rest);
      };
    },
  });
}

interface Call {
  call: string;
  scenario: Scenario;
  service: Service;
  inject(local: LocalWorkflow, aws: FakeAws, faults: Injector): void;
  /** How the case ends when the call fails for good. */
  always: Expected;
}
interface Expected {
  status: 'closed' | 'open';
  outcome?: 'remediated' | 'failed';
  execution: RunResult['status'];
  deadLetters: number;
  /** The resource ends compliant (the fix was made). */
  fixed: boolean;
}

const RECOVERED: Expected = { status: 'closed', outcome: 'remediated', execution: 'succeeded', deadLetters: 0, fixed: true };
const FAILED_NOTHING_CHANGED: Expected = { status: 'closed', outcome: 'failed', execution: 'failed', deadLetters: 0, fixed: false };

/** Wraps one method of a store so that it fails as told when `when` holds for its arguments. */
function faultyMethod<T extends object, K extends keyof T>(
  store: T,
  method: K,
  faults: Injector,
  when: (...args: never[]) => boolean = () => true,
): void {
  const original = (store[method] as (...a: unknown[]) => Promise<unknown>).bind(store);
  store[method] = (async (...args: never[]) => {
    if (when(...args)) faults.hit();
    return original(...args);
  }) as T[K];
}

const written = (aws: FakeAws) => () => aws.writes.length > 0;

const CALLS: Call[] = [
  {
    call: 'sns:Publish',
    scenario: 's3',
    service: 'sns',
    inject: (local, _aws, f) => (local.deps.sns = faultyClient(local.deps.sns, PublishCommand, f)),
    // the outcome is recorded before the publish: the finding closes, both notifications are kept
    always: { status: 'closed', outcome: 'remediated', execution: 'succeeded', deadLetters: 2, fixed: true },
  },
  {
    call: 'dynamodb:GetItem (finding, Notify)',
    scenario: 's3',
    service: 'dynamodb',
    inject: (local, _aws, f) => faultyMethod(local.deps.findings, 'get', f),
    // nothing can be recorded: the notifications are kept, the execution fails (alarmed; recovery restarts it)
    always: { status: 'open', execution: 'failed', deadLetters: 2, fixed: true },
  },
  {
    call: 'dynamodb:UpdateItem (finding, Notify)',
    scenario: 's3',
    service: 'dynamodb',
    inject: (local, _aws, f) =>
      faultyMethod(
        local.deps.findings,
        'update',
        f,
        ((_id: string, change: { entry: { event: string } }) => change.entry.event !== 'applied') as never,
      ),
    always: { status: 'open', execution: 'failed', deadLetters: 2, fixed: true },
  },
  {
    call: 'dynamodb:UpdateItem (finding history, Apply)',
    scenario: 's3',
    service: 'dynamodb',
    inject: (local, _aws, f) =>
      faultyMethod(
        local.deps.findings,
        'update',
        f,
        ((_id: string, change: { entry: { event: string } }) => change.entry.event === 'applied') as never,
      ),
    // the fix is made: a history line that cannot be written does not make it a failure
    always: RECOVERED,
  },
  {
    call: 'dynamodb:GetItem (fix ledger, Plan and Apply)',
    scenario: 's3',
    service: 'dynamodb',
    inject: (local, _aws, f) => faultyMethod(local.deps.fixes, 'fixesSince', f),
    always: FAILED_NOTHING_CHANGED,
  },
  {
    call: 'dynamodb:UpdateItem (fix ledger, Apply)',
    scenario: 's3',
    service: 'dynamodb',
    inject: (local, _aws, f) => faultyMethod(local.deps.fixes, 'spend', f),
    // the fix is counted before the write: no count, no write
    always: FAILED_NOTHING_CHANGED,
  },
  {
    call: 'dynamodb:GetItem (last-known-good, Plan and Apply)',
    scenario: 'waf',
    service: 'dynamodb',
    inject: (local, _aws, f) => faultyMethod(local.deps.lastKnownGood, 'get', f),
    always: FAILED_NOTHING_CHANGED,
  },
  {
    call: 's3:PutBucketEncryption',
    scenario: 's3',
    service: 's3',
    inject: (local, _aws, f) => faultyService(local, S3Client, PutBucketEncryptionCommand, f),
    always: FAILED_NOTHING_CHANGED,
  },
  {
    call: 'wafv2:AssociateWebACL',
    scenario: 'waf',
    service: 'wafv2',
    inject: (local, _aws, f) => faultyService(local, WAFV2Client, AssociateWebACLCommand, f),
    always: FAILED_NOTHING_CHANGED,
  },
  {
    call: 'apigateway:UpdateStage',
    scenario: 'throttling',
    service: 'apigateway',
    inject: (local, _aws, f) => faultyService(local, APIGatewayClient, UpdateStageCommand, f),
    always: FAILED_NOTHING_CHANGED,
  },
  {
    call: 's3:GetBucketEncryption (Verify)',
    scenario: 's3',
    service: 's3',
    inject: (local, aws, f) => faultyService(local, S3Client, GetBucketEncryptionCommand, f, written(aws)),
    // fixed but never read back: failed, saying the change was applied
    always: { status: 'closed', outcome: 'failed', execution: 'failed', deadLetters: 0, fixed: true },
  },
  {
    call: 'wafv2:GetWebACLForResource (Verify)',
    scenario: 'waf',
    service: 'wafv2',
    inject: (local, aws, f) => faultyService(local, WAFV2Client, GetWebACLForResourceCommand, f, written(aws)),
    always: { status: 'closed', outcome: 'failed', execution: 'failed', deadLetters: 0, fixed: true },
  },
  {
    call: 'apigateway:GetStage (Verify)',
    scenario: 'throttling',
    service: 'apigateway',
    inject: (local, aws, f) => faultyService(local, APIGatewayClient, GetStageCommand, f, written(aws)),
    always: { status: 'closed', outcome: 'failed', execution: 'failed', deadLetters: 0, fixed: true },
  },
];

function findingOf(name: string): Finding {
  const judgement = judgeEvent(parseEvent(fixture(name)), POLICY, router).judgements.find((j) => j.outcome === 'violation');
  if (judgement?.outcome !== 'violation') throw new Error(`${name} yields no finding`);
  return judgement.finding;
}

/**
 * How the guard came out of it: recovered (closed as remediated, nothing kept), dead-lettered
 * (not recovered, but a queue holds it or the failed execution raised the alarm), or stuck (a
 * finding open with nothing kept or alarmed, or an outcome that is not what happened).
 */
function judge(
  record: { status: string; outcome?: string; history: Array<{ detail?: string }> },
  result: RunResult,
  deadLetters: number,
  fixed: boolean,
  writes: number,
): ChaosOutcome {
  const last = record.history.at(-1)?.detail ?? '';
  const truthful =
    record.status !== 'closed' ||
    (record.outcome === 'remediated' ? fixed && writes > 0 : record.outcome === 'failed' ? !fixed || /was applied/.test(last) : false);
  if (!truthful) return 'stuck';
  if (record.status === 'closed' && record.outcome === 'remediated' && deadLetters === 0 && result.status === 'succeeded')
    return 'recovered';
  return deadLetters > 0 || result.status === 'failed' ? 'dead-lettered' : 'stuck';
}

describe('fault matrix: the remediation workflow', () => {
  let workflow: SynthesizedWorkflow;
  let aws: FakeAws;
  let local: LocalWorkflow;
  beforeAll(() => {
    workflow = synthesizeWorkflow(POLICY);
  });
  beforeEach(() => {
    aws = new FakeAws();
    aws.buckets.set('rampart-demo-logs', { rule: { ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } } });
    aws.stages.set(PROD, { methodSettings: { '*/*': { throttlingRateLimit: 2000, throttlingBurstLimit: 1000 } } });
    aws.webAcls.add(RAMPART_GUARD_ACL);
    local = new LocalWorkflow(workflow, POLICY);
  });
  afterEach(() => {
    aws.restore();
    local.restore();
  });

  it('alarms on failed executions and on kept notifications (the "alarm" of the matrix)', () => {
    const alarms = Object.values(workflow.template.findResources('AWS::CloudWatch::Alarm')) as Array<{
      Properties: { MetricName: string; Namespace: string };
    }>;
    expect(alarms.map((a) => `${a.Properties.Namespace} ${a.Properties.MetricName}`)).toEqual(
      expect.arrayContaining(['AWS/States ExecutionsFailed', 'AWS/SQS ApproximateNumberOfMessagesVisible']),
    );
  });

  describe.each(CALLS)('$call', (c) => {
    it.each(FAULTS)('%s', async (fault) => {
      const finding = findingOf(SCENARIOS[c.scenario].fixture);
      const { generation } = await local.deps.findings.open(finding, new Date('2024-06-03T15:59:00Z'));
      const faults = injector(c.service, fault);
      const fixesMade = local.deps.fixes.fixesSince.bind(local.deps.fixes); // read behind the injected faults
      c.inject(local, aws, faults);

      const result = await local.run({ finding, mode: 'enforce', generation });

      // read behind the injected faults
      const record = (local.deps.findings as InMemoryFindingsStore).records.get(finding.id)!;
      const fixed = SCENARIOS[c.scenario].compliant(aws);
      const expected = fault === 'always' ? c.always : RECOVERED;
      const outcome = judge(record, result, local.deadLetters.length, fixed, aws.writes.length);
      recordChaos({ path: 'workflow', call: c.call, fault, outcome });

      expect(faults.fired).toBeGreaterThan(0); // the fault was really injected
      expect({
        status: record.status,
        outcome: record.outcome,
        execution: result.status,
        deadLetters: local.deadLetters.length,
        fixed,
      }).toEqual({
        status: expected.status,
        outcome: expected.outcome,
        execution: expected.execution,
        deadLetters: expected.deadLetters,
        fixed: expected.fixed,
      });
      expect(outcome).toBe(expected === RECOVERED ? 'recovered' : 'dead-lettered');
      // one write at most for one fix, and the fix counted exactly when it was made
      expect(aws.writes.length).toBe(expected.fixed ? 1 : 0);
      expect(await fixesMade(findingKey(finding), new Date('2024-06-03T15:00:00Z'))).toBe(expected.fixed ? 1 : 0);
      // the outcome is recorded once, however often Notify ran
      expect(record.history.filter((h) => h.event === record.outcome)).toHaveLength(record.status === 'closed' ? 1 : 0);
      if (expected.outcome === 'failed' && expected.fixed) expect(record.history.at(-1)?.detail).toContain('was applied');
      // a notification kept in the queue carries what people were not told
      for (const m of local.deadLetters) expect(m.body.finding.id).toBe(finding.id);
    });
  });
});
