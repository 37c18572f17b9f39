/**
 * In-process time of one low-risk finding through the local workflow (the synthesized
 * definition on aws-local-stepfunctions, real handlers, mocked AWS): p50 and p99 over runs.
 */
import { parseEvent } from '../core/events';
import { parsePolicy } from '../controls/policy';
import { DETECTORS } from '../controls';
import { judgeEvent } from '../detectors/judge';
import { EventRouter } from '../detectors/router';
import { FakeAws } from '../test/fakes';
import { LocalWorkflow, synthesizeWorkflow } from '../test/workflow/harness';
import { mixEvents } from './fixtures';
import { quantile } from './paired';
import '../test/polyfills';

process.env.POWERTOOLS_METRICS_DISABLED = 'true';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';

export interface WorkflowLatency {
  p50: number;
  p99: number;
  runs: number;
  /** The floor, same run: the engine on the same definition, each task answering its recorded result at once. */
  floorP50: number;
  floorP99: number;
}

export async function workflowLatency(runs = 1000): Promise<WorkflowLatency> {
  const key = 'arn:aws:kms:us-east-1:111122223333:key/0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';
  // the same bucket is fixed on every run: no fix budget here
  const policy = parsePolicy({
    fixBudget: { maxFixes: 1e9 },
    controls: { 's3-default-encryption': { algorithm: 'aws:kms', kmsKeyId: key, bucketKeyEnabled: true } },
  });
  const event = mixEvents().find((e) => (e.detail as { eventName?: string }).eventName === 'DeleteBucketEncryption')!;
  const judgement = judgeEvent(parseEvent(event), policy, new EventRouter(DETECTORS)).judgements[0]!;
  if (judgement.outcome !== 'violation') throw new Error('no finding to remediate');
  const workflow = synthesizeWorkflow(policy);
  const aws = new FakeAws();
  const local = new LocalWorkflow(workflow, policy);
  const times: number[] = [];
  const floor: number[] = [];
  try {
    for (let i = 0; i < runs + 50; i++) {
      aws.buckets.set('rampart-demo-logs', { rule: { ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } } });
      const finding = { ...judgement.finding, id: `${judgement.finding.id}-${i}` };
      const { generation } = await local.deps.findings.open(finding, new Date());
      const start = process.hrtime.bigint();
      const result = await local.run({ finding, mode: 'enforce', generation });
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      if (result.status !== 'succeeded' || result.notifications.at(-1)?.kind !== 'remediated')
        throw new Error(`run ${i} ended ${result.status}`);
      if (i >= 50) times.push(ms); // the first runs warm up the JIT
      // the floor, paired with each run: the same execution, every task's result given back at once
      local.replayResult = (state) => local.recordedResults.get(state);
      const f = await local.deps.findings.open({ ...finding, id: `${finding.id}-floor` }, new Date());
      const floorStart = process.hrtime.bigint();
      const floorRun = await local.run({ finding: { ...finding, id: `${finding.id}-floor` }, mode: 'enforce', generation: f.generation });
      if (i >= 50) floor.push(Number(process.hrtime.bigint() - floorStart) / 1e6);
      local.replayResult = undefined;
      if (floorRun.status !== 'succeeded') throw new Error(`floor run ${i} ended ${floorRun.status}`);
      // keep the mocks' call logs from growing without bound
      if (i % 100 === 0) {
        local.sns.resetHistory();
        for (const m of [aws.s3, aws.kms]) m.resetHistory();
      }
    }
  } finally {
    aws.restore();
    local.restore();
  }
  return { p50: quantile(times, 0.5), p99: quantile(times, 0.99), runs, floorP50: quantile(floor, 0.5), floorP99: quantile(floor, 0.99) };
}

if (require.main === module) {
  void workflowLatency().then((r) => console.log(JSON.stringify(r)));
}
