import { GetBucketEncryptionCommand } from '@aws-sdk/client-s3';
import { ControlId } from '../../core/controls';
import type { Finding } from '../../core/finding';
import { keyText } from '../../core/resource-key';
import type { LastKnownGoodStore } from '../../core/last-known-good';
import { InMemoryFindingsStore, type FindingRecord, type FindingsStore } from '../../core/stores';
import { makeDetectorHandler } from '../../handlers/detector';
import { makeSweepHandler } from '../../handlers/sweep';
import type { GuardDeps } from '../../handlers/deps';
import { metrics } from '../../handlers/telemetry';
import type { WorkflowInput } from '../../handlers/workflow';
import { FakeAws, FakeStepFunctions, inMemoryDeps, s3Error } from '../fakes';
import { ARTIFACTS_KEY, fixture, policy } from '../helpers';
import { LocalWorkflow, synthesizeWorkflow } from '../workflow/harness';
import { recordChaos, type ChaosOutcome } from './tally';

/**
 * The fault matrix of the detector path: each AWS call the detector makes, failing once
 * (throttled, 5xx, timed out, its response lost after the write applied) or for good. The
 * detector runs end to end in process (real handler, stateful fakes), redelivered as Lambda's
 * asynchronous invocation does (two retries, a minute then two apart, then its dead-letter
 * queue); each workflow it starts runs on the synthesized definition. Afterwards no finding
 * may be open without a running workflow, and what was not recovered must be in a dead-letter
 * queue or an alarm metric (and recovered by the sweep once the fault is gone).
 */

const POLICY = policy({ controls: { 's3-default-encryption': { algorithm: 'aws:kms', kmsKeyId: ARTIFACTS_KEY, risk: 'low' } } });
const CONTROL: ControlId = 's3-default-encryption';
const BUCKET = 'rampart-demo-logs';
const EVENT = fixture('s3-DeleteBucketEncryption-constructed.json');
const T0 = Date.parse('2024-06-03T16:00:00Z');

const FAULTS = ['throttling-once', '5xx-once', 'timeout-once', 'lost-response', 'always'] as const;
type FaultKind = (typeof FAULTS)[number];

/** The errors AWS gives (as the SDK names them) once its own retries are spent. */
function awsError(kind: Exclude<FaultKind, 'lost-response' | 'always'> | 'always', call: string): Error {
  if (kind === 'throttling-once')
    return Object.assign(new Error('Rate exceeded'), {
      name: call.startsWith('dynamodb') ? 'ProvisionedThroughputExceededException' : 'ThrottlingException',
      $fault: 'client',
      $metadata: { httpStatusCode: 400 },
    });
  if (kind === 'timeout-once') return Object.assign(new Error('socket hang up'), { name: 'TimeoutError', code: 'ECONNRESET' });
  return Object.assign(new Error('We encountered an internal error. Please try again.'), {
    name: 'InternalServerError',
    $fault: 'server',
    $metadata: { httpStatusCode: 500 },
  });
}

/** One injected fault on one call; `clear()` ends an `always` fault (the outage is over). */
class Fault {
  private fired = 0;
  private cleared = false;
  constructor(
    readonly call: string,
    readonly kind: FaultKind,
  ) {}
  clear() {
    this.cleared = true;
  }
  get injected(): number {
    return this.fired;
  }
  /** Runs `apply` (the call as AWS does it) through the fault. */
  async around<T>(call: string, apply: () => T | Promise<T>): Promise<T> {
    if (call !== this.call || this.cleared || (this.kind !== 'always' && this.fired > 0)) return apply();
    this.fired++;
    if (this.kind === 'lost-response') {
      await apply();
      throw awsError('timeout-once', call);
    }
    throw awsError(this.kind, call);
  }
  aroundSync(call: string, apply: () => unknown): unknown {
    if (call !== this.call || this.cleared || (this.kind !== 'always' && this.fired > 0)) return apply();
    this.fired++;
    if (this.kind === 'lost-response') {
      apply();
      throw awsError('timeout-once', call);
    }
    throw awsError(this.kind, call);
  }
}

/** The findings store with the DynamoDB call each method makes behind the fault. */
class FaultyFindings implements FindingsStore {
  constructor(
    readonly inner: InMemoryFindingsStore,
    private readonly fault: () => Fault,
  ) {}
  open(finding: Finding, at: Date) {
    return this.fault().around('dynamodb:UpdateItem findings.open', () => this.inner.open(finding, at));
  }
  restart(id: string, from: number, at: Date, reason: string) {
    return this.fault().around('dynamodb:UpdateItem findings.restart', () => this.inner.restart(id, from, at, reason));
  }
  listOpen(control: ControlId) {
    return this.inner.listOpen(control);
  }
  get(id: string) {
    return this.inner.get(id);
  }
  update(...args: Parameters<FindingsStore['update']>) {
    return this.inner.update(...args);
  }
  list() {
    return this.inner.list();
  }
}

interface Cell {
  call: string;
  kinds: readonly FaultKind[];
  /** What the account and the guard look like before the faulty event. */
  setup: 'violation' | 'compliant' | 'workflow-failed' | 'malformed';
}

const MATRIX: Cell[] = [
  { call: 's3:GetBucketEncryption', kinds: ['throttling-once', '5xx-once', 'timeout-once', 'always'], setup: 'violation' },
  { call: 'dynamodb:UpdateItem findings.open', kinds: FAULTS, setup: 'violation' },
  { call: 'sfn:StartExecution', kinds: FAULTS, setup: 'violation' },
  { call: 'dynamodb:PutItem lastKnownGood.put', kinds: FAULTS, setup: 'compliant' },
  { call: 'sfn:DescribeExecution', kinds: ['throttling-once', '5xx-once', 'timeout-once', 'always'], setup: 'workflow-failed' },
  { call: 'dynamodb:UpdateItem findings.restart', kinds: FAULTS, setup: 'workflow-failed' },
  { call: 'sqs:SendMessage', kinds: ['throttling-once', '5xx-once', 'timeout-once', 'always'], setup: 'malformed' },
];

describe('fault matrix: the detector path', () => {
  const workflow = synthesizeWorkflow(POLICY);
  let aws: FakeAws;
  let local: LocalWorkflow;
  let executions: FakeStepFunctions;
  let fault: Fault;
  let now: number;
  let deps: GuardDeps;
  let findings: FaultyFindings;
  let lambdaDeadLetters: unknown[];
  let detectorDeadLetters: string[];
  let metricNames: string[];
  let lastKnownGood: Map<string, unknown>;

  beforeEach(() => {
    aws = new FakeAws();
    aws.buckets.set(BUCKET, { region: 'us-east-1', rule: { ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } } });
    aws.s3.on(GetBucketEncryptionCommand).callsFake((input: { Bucket: string }) =>
      fault.aroundSync('s3:GetBucketEncryption', () => {
        const rule = aws.buckets.get(input.Bucket)?.rule;
        if (!rule) throw s3Error('ServerSideEncryptionConfigurationNotFoundError');
        return { ServerSideEncryptionConfiguration: { Rules: [structuredClone(rule)] } };
      }),
    );
    now = T0;
    local = new LocalWorkflow(workflow, POLICY, () => new Date(now));
    executions = new FakeStepFunctions(local.sfn);
    executions.intercept = (call, run) => fault.aroundSync(call, run);
    fault = new Fault('none', 'always');
    deps = inMemoryDeps(POLICY, () => new Date(now));
    findings = new FaultyFindings(new InMemoryFindingsStore(), () => fault);
    deps.findings = findings;
    local.deps.findings = findings;
    lastKnownGood = new Map();
    const lkg: LastKnownGoodStore = {
      get: async (key) => lastKnownGood.get(keyText(key)),
      put: (key, state) => fault.around('dynamodb:PutItem lastKnownGood.put', () => void lastKnownGood.set(keyText(key), state)),
    };
    deps.lastKnownGood = lkg;
    detectorDeadLetters = [];
    deps.deadLetters = { send: ({ body }) => fault.around('sqs:SendMessage', () => void detectorDeadLetters.push(body)) };
    lambdaDeadLetters = [];
    metricNames = [];
    jest.spyOn(metrics, 'addMetric').mockImplementation((name: string) => {
      metricNames.push(name);
      return metrics;
    });
  });
  afterEach(() => {
    jest.restoreAllMocks();
    aws.restore();
    local.restore();
  });

  /** Lambda's asynchronous invocation: the event, then two retries (1 and 2 minutes later), then the function's dead-letter queue. */
  async function invokeAsync(event: unknown): Promise<void> {
    const handler = makeDetectorHandler(() => deps);
    for (const delay of [0, 60_000, 120_000]) {
      now += delay;
      try {
        await handler(structuredClone(event) as never);
        return;
      } catch {
        // retried by Lambda
      }
    }
    lambdaDeadLetters.push(event);
  }

  /** Runs every running execution on the synthesized workflow, to its end. */
  async function runWorkflows(): Promise<void> {
    for (const execution of executions.executions.values()) {
      if (execution.status !== 'RUNNING') continue;
      const result = await local.run(JSON.parse(execution.input) as WorkflowInput);
      execution.status = result.status === 'succeeded' ? 'SUCCEEDED' : 'FAILED';
    }
  }

  /** Open findings with no running execution of their current generation. */
  function stuck(): FindingRecord[] {
    return [...findings.inner.records.values()].filter(
      (r) => r.status !== 'closed' && executions.executions.get(`${r.id}-${r.generation}`)?.status !== 'RUNNING',
    );
  }

  async function sweepOnce(): Promise<void> {
    now += 3_600_000;
    await makeSweepHandler(() => deps)({ control: CONTROL, sweepId: `sweep-${now}` });
  }

  for (const cell of MATRIX) {
    for (const kind of cell.kinds) {
      it(`${cell.call} ${kind}`, async () => {
        if (cell.setup === 'compliant')
          aws.buckets.get(BUCKET)!.rule = {
            ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: ARTIFACTS_KEY },
          };
        if (cell.setup === 'workflow-failed') {
          // an earlier event opened the finding; its workflow then failed without closing it
          await invokeAsync(EVENT);
          for (const e of executions.executions.values()) e.status = 'FAILED';
          now += 3_600_000;
        }
        fault = new Fault(cell.call, kind);
        const event = cell.setup === 'malformed' ? { ...EVENT, detail: { eventName: 'DeleteBucketEncryption' } } : EVENT;

        await invokeAsync(event);
        const stuckBeforeWorkflows = stuck();
        await runWorkflows();

        expect(fault.injected).toBeGreaterThan(0);
        let outcome: ChaosOutcome;
        if (kind === 'always') {
          // not recovered while the fault lasts: kept in a dead-letter queue and alarmed on
          expect(lambdaDeadLetters).toHaveLength(1);
          expect(metricNames.some((m) => ['WorkflowStartFailures', 'ReadFailures'].includes(m)) || cell.setup !== 'violation').toBe(true);
          outcome = 'dead-lettered';
          // the outage ends: the next sweep (or event) recovers whatever the fault left behind
          fault.clear();
          if (cell.setup === 'malformed') {
            await invokeAsync(lambdaDeadLetters[0]);
            expect(detectorDeadLetters).toHaveLength(1);
          } else {
            await sweepOnce();
            await runWorkflows();
          }
        } else {
          expect(lambdaDeadLetters).toEqual([]);
          outcome = stuck().length === 0 ? 'recovered' : 'stuck';
        }
        if (cell.setup === 'malformed') expect(detectorDeadLetters).toHaveLength(1);
        if (cell.setup === 'compliant') expect(lastKnownGood.size).toBe(1);
        const left = stuck();
        recordChaos({ path: 'detector', call: cell.call.split(' ')[0]!, fault: kind, outcome: left.length > 0 ? 'stuck' : outcome });
        expect(left).toEqual([]);
        // every finding the fault touched ended: fixed by its workflow
        for (const r of findings.inner.records.values())
          expect({ id: r.id, status: r.status, outcome: r.outcome }).toEqual({ id: r.id, status: 'closed', outcome: 'remediated' });
        if (cell.setup === 'violation' || cell.setup === 'workflow-failed') expect(findings.inner.records.size).toBe(1);
        // nothing was stuck even between the event and the workflows running, except while an outage lasted
        if (kind !== 'always') expect(stuckBeforeWorkflows).toEqual([]);
      });
    }
  }
});
