import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  GetEventSelectorsCommand,
  GetTrailCommand,
  ListTagsCommand,
  PutEventSelectorsCommand,
  StartLoggingCommand,
  UpdateTrailCommand,
} from '@aws-sdk/client-cloudtrail';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { BUNDLED_POLICY } from '../../cli/io';
import { createAwsClients } from '../../core/aws';
import { parseEvent } from '../../core/events';
import type { Finding } from '../../core/finding';
import { InMemoryFixLedger } from '../../core/fix-budget';
import { InMemoryLastKnownGood } from '../../core/last-known-good';
import { ALL_CONTROLS, DETECTORS } from '../../controls';
import { parsePolicy } from '../../controls/policy';
import { judgeEvent } from '../../detectors/judge';
import { EventRouter } from '../../detectors/router';
import { sweep, type SweepItem } from '../../detectors/sweep';
import { remediate, type RemediationContext } from '../../remediators/remediate';
import { FakeAws } from '../fakes';
import { DEFAULT_SELECTORS, type FakeTrail } from '../fakes/cloudtrail';
import { FIXTURES, fixture, jsonLines, runCli } from '../helpers';

const ACCOUNT = '111122223333';
const STOPPED = `arn:aws:cloudtrail:us-west-2:${ACCOUNT}:trail/stopped`;
const UNVALIDATED = `arn:aws:cloudtrail:us-east-1:${ACCOUNT}:trail/unvalidated`;
const FINE = `arn:aws:cloudtrail:us-east-1:${ACCOUNT}:trail/fine`;
const healthy = (): FakeTrail => ({
  isLogging: true,
  isMultiRegionTrail: true,
  logFileValidationEnabled: true,
  includeGlobalServiceEvents: true,
});

const tmp = mkdtempSync(join(tmpdir(), 'rampart-trails-'));
const POLICY_FILE = join(tmp, 'policy.yaml');
writeFileSync(POLICY_FILE, ['regions: [us-east-1, us-west-2]', 'controls:', '  cloudtrail-logging: { risk: high }', ''].join('\n'));
const POLICY = parsePolicy({ regions: ['us-east-1', 'us-west-2'], controls: { 'cloudtrail-logging': { risk: 'low' } } });

/** An independent read-back: the fake's own GetTrail answer, not the control's reader. */
async function readBack(aws: FakeAws, arn: string) {
  const sent = aws.cloudTrail.commandCalls(GetTrailCommand).length;
  const { Trail } = await createAwsClients({ region: arn.split(':')[3], credentials: { accessKeyId: 'a', secretAccessKey: 'b' } })
    .get((await import('@aws-sdk/client-cloudtrail')).CloudTrailClient)
    .send(new GetTrailCommand({ Name: arn }));
  expect(aws.cloudTrail.commandCalls(GetTrailCommand).length).toBe(sent + 1);
  return { trail: Trail, isLogging: aws.trails.get(arn)!.isLogging };
}

describe('cloudtrail-logging against a stateful CloudTrail fake', () => {
  let aws: FakeAws;
  const sts = mockClient(STSClient);
  let ctx: RemediationContext;

  beforeEach(() => {
    aws = new FakeAws();
    sts.reset();
    sts.on(GetCallerIdentityCommand).resolves({ Account: ACCOUNT, Arn: `arn:aws:iam::${ACCOUNT}:user/ops` });
    aws.trails.set(STOPPED, { ...healthy(), isLogging: false });
    aws.trails.set(UNVALIDATED, { ...healthy(), logFileValidationEnabled: false });
    aws.trails.set(FINE, healthy());
    ctx = {
      controls: ALL_CONTROLS,
      policy: POLICY,
      clients: createAwsClients({
        region: 'us-east-1',
        regions: ['us-east-1', 'us-west-2'],
        credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
      }),
      lastKnownGood: new InMemoryLastKnownGood(),
      fixes: new InMemoryFixLedger(),
      clock: () => new Date('2024-06-03T16:00:00Z'),
      account: ACCOUNT,
      verifyDelayMs: 1,
      sleep: async () => undefined,
    };
  });
  afterEach(() => aws.restore());
  afterAll(() => sts.restore());

  async function swept(): Promise<SweepItem[]> {
    const items: SweepItem[] = [];
    for await (const item of sweep(POLICY, ctx.clients, { detectors: DETECTORS, sweepId: 'sweep-1', account: ACCOUNT })) items.push(item);
    return items;
  }
  const findingsOf = (items: SweepItem[]): Finding[] =>
    items.flatMap((i) => (i.kind === 'judged' && i.judgement.outcome === 'violation' ? [i.judgement.finding] : []));

  it('the sweep finds a stopped trail on its own, with no event, and each trail once however many regions list it', async () => {
    const items = await swept();

    expect(findingsOf(items).map((f) => [f.resourceArn, f.violation, f.region, f.account])).toEqual(
      expect.arrayContaining([
        [STOPPED, 'trail is not logging', 'us-west-2', ACCOUNT],
        [UNVALIDATED, 'log file validation is disabled', 'us-east-1', ACCOUNT],
      ]),
    );
    expect(findingsOf(items)).toHaveLength(2);
    expect(
      items
        .filter((i) => i.kind === 'judged' && i.judgement.outcome === 'compliant')
        .map((i) => i.kind === 'judged' && i.judgement.ref.arn),
    ).toEqual([FINE]);
  });

  it('remediates a stopped trail with StartLogging in its home region, and the read-back confirms', async () => {
    const stopped = findingsOf(await swept()).find((f) => f.resourceArn === STOPPED);

    const outcome = await remediate(stopped!, ctx);

    expect(outcome).toMatchObject({
      outcome: 'remediated',
      change: { operation: 'StartLogging', region: 'us-west-2', input: { Name: STOPPED } },
    });
    expect(aws.writes).toEqual([`StartLogging ${STOPPED}`]);
    expect((await readBack(aws, STOPPED)).isLogging).toBe(true);
  });

  it('remediates a trail without log file validation with UpdateTrail, and the read-back confirms', async () => {
    const unvalidated = findingsOf(await swept()).find((f) => f.resourceArn === UNVALIDATED);

    const outcome = await remediate(unvalidated!, ctx);

    expect(outcome).toMatchObject({
      outcome: 'remediated',
      change: { operation: 'UpdateTrail', input: { Name: UNVALIDATED, EnableLogFileValidation: true } },
    });
    expect(aws.writes).toEqual([`UpdateTrail ${UNVALIDATED} EnableLogFileValidation`]);
    expect((await readBack(aws, UNVALIDATED)).trail).toMatchObject({ LogFileValidationEnabled: true, IsMultiRegionTrail: true });
  });

  it('restores management events with one PutEventSelectors that keeps the data selectors', async () => {
    const dataOnly = [
      {
        ReadWriteType: 'All' as const,
        IncludeManagementEvents: false,
        DataResources: [{ Type: 'AWS::S3::Object', Values: ['arn:aws:s3:::audit/'] }],
        ExcludeManagementEventSources: [],
      },
    ];
    aws.trails.set(FINE, { ...healthy(), eventSelectors: dataOnly });
    const finding = findingsOf(await swept()).find((f) => f.resourceArn === FINE)!;

    const outcome = await remediate(finding, ctx);

    expect(outcome.outcome).toBe('remediated');
    const sent = aws.cloudTrail.commandCalls(PutEventSelectorsCommand).map((c) => c.args[0].input);
    expect(sent).toEqual([{ TrailName: FINE, EventSelectors: [dataOnly[0], DEFAULT_SELECTORS[0]] }]);
    expect(aws.trails.get(FINE)!.eventSelectors).toEqual([dataOnly[0], DEFAULT_SELECTORS[0]]);
  });

  it('reports a deleted trail (the DeleteTrail record) and re-creates nothing', async () => {
    const event = parseEvent(fixture('cloudtrail-DeleteTrail.elastic-beats-real.json'));
    const [j] = judgeEvent(event, parsePolicy({ controls: { 'cloudtrail-logging': {} } }), new EventRouter(DETECTORS)).judgements;
    if (j?.outcome !== 'violation') throw new Error('expected a violation');

    const outcome = await remediate(j.finding, { ...ctx, account: undefined });

    expect(outcome).toMatchObject({
      outcome: 'failed',
      change: null,
      reason: expect.stringContaining('Rampart does not re-create trails'),
    });
    expect(aws.writes).toEqual([]);
  });

  it('rampart scan finds the stopped trail and the trail without validation; remediate fixes each, verified', async () => {
    const scan = await runCli(['scan', '--json', '--config', POLICY_FILE, '--region', 'us-east-1']);
    const findings = jsonLines(scan.stdout).filter((l) => l.type === 'finding');

    // the policy's risk is high: StartLogging stays low, UpdateTrail asks for approval
    expect(findings.map((f) => [f.resourceArn, f.risk, (f.change as { operation: string }).operation]).sort()).toEqual([
      [UNVALIDATED, 'high', 'UpdateTrail'],
      [STOPPED, 'low', 'StartLogging'],
    ]);
    for (const f of findings) {
      const fixed = await runCli(['remediate', '--json', '--config', POLICY_FILE, '--region', 'us-east-1', '--finding', JSON.stringify(f)]);
      expect(JSON.parse(fixed.stdout)).toMatchObject({ outcome: 'remediated', resourceArn: f.resourceArn });
    }
    expect(aws.cloudTrail.commandCalls(StartLoggingCommand)).toHaveLength(1);
    expect(aws.cloudTrail.commandCalls(UpdateTrailCommand)).toHaveLength(1);
    expect((await readBack(aws, STOPPED)).isLogging).toBe(true);
    expect((await readBack(aws, UNVALIDATED)).trail?.LogFileValidationEnabled).toBe(true);
  });
});

describe('rampart replay of the real trail records', () => {
  it('gives a finding for StopLogging, DeleteTrail, UpdateTrail and PutEventSelectors, an unknown for CreateTrail, nothing for the failed call', async () => {
    const names = [
      'cloudtrail-StopLogging.panther-assumedrole-testcase.json',
      'cloudtrail-StopLogging.panther-error-testcase.json',
      'cloudtrail-DeleteTrail.elastic-beats-real.json',
      'cloudtrail-UpdateTrail.elastic-integrations-console-real.json',
      'cloudtrail-PutEventSelectors.soclabs-stratus-real.json',
      'cloudtrail-CreateTrail.elastic-beats-console-real.json',
    ];
    const result = await runCli([
      'replay',
      '--json',
      '--plan',
      '--config',
      BUNDLED_POLICY,
      '--control',
      'cloudtrail-logging',
      ...names.map((n) => join(FIXTURES, n)),
    ]);
    const lines = jsonLines(result.stdout);

    expect(
      lines
        .filter((l) => l.type !== 'summary')
        .map((l) => [l.type, l.eventName ?? '', l.resourceArn, (l.change as { operation?: string } | null | undefined)?.operation ?? null]),
    ).toEqual([
      ['finding', 'StopLogging', 'arn:aws:cloudtrail:us-west-2:123456789012:trail/example-trail', 'StartLogging'],
      ['finding', 'DeleteTrail', 'arn:aws:cloudtrail:us-west-2:0123456789012:trail/test-trail', null],
      ['finding', 'UpdateTrail', 'arn:aws:cloudtrail:us-west-2:0123456789012:trail/TEST-trail', 'UpdateTrail'],
      [
        'finding',
        'PutEventSelectors',
        'arn:aws:cloudtrail:ap-southeast-2:438465128930:trail/stratus-red-team-ctes-trail-yuffsbtkgj',
        'PutEventSelectors',
      ],
      ['unknown', '', 'arn:aws:cloudtrail:us-west-2:0123456789012:trail/TEST-trail', null],
    ]);
    expect(lines.at(-1)).toMatchObject({ type: 'summary', events: 6, matched: 5, findings: 4, unknown: 1, errors: 0 });
    const deleted = lines.find((l) => l.eventName === 'DeleteTrail')!;
    expect(deleted).toMatchObject({ severity: 'high', reason: expect.stringContaining('does not re-create trails') });
  });
});

describe('reading a trail', () => {
  let aws: FakeAws;
  beforeEach(() => (aws = new FakeAws()));
  afterEach(() => aws.restore());
  const clients = () => createAwsClients({ region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });

  it('takes a trail without custom selectors as recording all management events, and empty custom selectors as none', async () => {
    const { cloudtrailLogging, trailRef } = await import('../../detectors/cloudtrail-logging');
    const ref = trailRef(FINE, undefined, ACCOUNT)!;
    aws.trails.set(FINE, { ...healthy(), tags: { team: 'audit' } });
    aws.cloudTrail.on(GetEventSelectorsCommand).resolves({ TrailARN: FINE, EventSelectors: [], AdvancedEventSelectors: [] });

    const observation = await cloudtrailLogging.readState(ref, clients());
    expect(observation).toMatchObject({
      status: 'known',
      tags: { team: 'audit' },
      state: { selectors: { form: 'basic', eventSelectors: DEFAULT_SELECTORS } },
    });

    aws.trails.get(FINE)!.eventSelectors = [];
    expect(await cloudtrailLogging.readState(ref, clients())).toMatchObject({
      state: { selectors: { form: 'basic', eventSelectors: [] } },
    });
  });

  it('reads a deleted trail as deleted (a violation), not as gone', async () => {
    const { cloudtrailLogging, trailRef } = await import('../../detectors/cloudtrail-logging');
    expect(await cloudtrailLogging.readState(trailRef(FINE, undefined, ACCOUNT)!, clients())).toEqual({
      status: 'known',
      state: { deleted: true },
      tags: {},
    });
  });

  it('reads an organization trail of the management account without its tags (a member cannot read them)', async () => {
    const { cloudtrailLogging, trailRef } = await import('../../detectors/cloudtrail-logging');
    const org = 'arn:aws:cloudtrail:us-east-1:999988887777:trail/org';
    aws.trails.set(org, { ...healthy(), isOrganizationTrail: true, tags: { secret: 'x' } });
    expect(await cloudtrailLogging.readState(trailRef(org, undefined, ACCOUNT)!, clients())).toMatchObject({
      status: 'known',
      tags: {},
      state: { isOrganizationTrail: true },
    });
    expect(aws.cloudTrail.commandCalls(ListTagsCommand)).toHaveLength(0);
  });
});
