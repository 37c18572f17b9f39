import { ListAccountsCommand, ListParentsCommand, OrganizationsClient } from '@aws-sdk/client-organizations';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { mockClient } from 'aws-sdk-client-mock';
import { StateMachine } from 'aws-local-stepfunctions';
import type { Policy } from '../../core/policy';
import type { WorkflowInput } from '../../core/workflow';
import type { GuardDeps } from '../../handlers/deps';
import { makeOrgAccountsHandler } from '../../handlers/org-accounts';
import { makeSweepHandler, type SweepPageOutput } from '../../handlers/sweep';
import { organizationTarget } from '../../infra/member-access';
import { RampartStack } from '../../infra/stack';
import { FakeAws, FakeStepFunctions, FakeSts } from '../fakes';
import { inMemoryGuardDeps } from '../guard-deps';
import { policy as parse } from '../helpers';
import { resolveDefinition } from './harness';

/**
 * The sweep state machine CDK synthesizes (the real definition), run with aws-local-stepfunctions,
 * each Task bound to the real handler of its function: the pages of a control, and in a hub the
 * Distributed Map over the organization's member accounts.
 */

type Json = Record<string, unknown>;

const HUB = '111122223333';
const MEMBER = '444455556666';
const OTHER = '777788889999';
const SUSPENDED = '222233334444';
const AES256 = { ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' as const } };

interface SynthesizedSweep {
  definition: Json;
  /** Task state name → the function's entry it runs (`sweep` or `org-accounts`). */
  entryOfState: Record<string, 'sweep' | 'org-accounts'>;
}

function tasksOf(states: Record<string, Json>): Array<[string, Json]> {
  return Object.entries(states).flatMap(([name, state]): Array<[string, Json]> => {
    const nested = [
      ...((state.Branches as Json[] | undefined) ?? []),
      ...(state.ItemProcessor ? [state.ItemProcessor as Json] : []),
    ].flatMap((b) => tasksOf(b.States as Record<string, Json>));
    return state.Type === 'Task' ? [[name, state], ...nested] : nested;
  });
}

function synthesizeSweep(policy: Policy, hub: boolean): SynthesizedSweep {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new RampartStack(app, 'Test', {
    policy,
    ...(hub ? { hub: organizationTarget(policy) } : {}),
    env: { account: HUB, region: 'us-east-1' },
  });
  const template = Template.fromStack(stack);
  const machines = Object.values(template.findResources('AWS::StepFunctions::StateMachine')) as Array<{ Properties: Json }>;
  const resources = template.toJSON().Resources as Record<string, { Type: string; Properties: Json }>;
  const definitions = machines.map((m) => JSON.parse(resolveDefinition(m.Properties.DefinitionString, resources)) as Json);
  const definition = definitions.find((d) => JSON.stringify(d).includes('"Each control"'))!;
  const entryOfState: SynthesizedSweep['entryOfState'] = {};
  for (const [name, state] of tasksOf(definition.States as Record<string, Json>)) {
    const arn = String((state.Parameters as Json | undefined)?.FunctionName ?? state.Resource);
    const logicalId = arn.split(':function:')[1]!;
    entryOfState[name] = logicalId.includes('AccountsFunction') ? 'org-accounts' : 'sweep';
  }
  return { definition, entryOfState };
}

/** The deps of the guard's functions as they build them from their environment, over in-memory stores. */
function guardDeps(policy: Policy, hub: boolean): GuardDeps {
  return inMemoryGuardDeps(policy, { RAMPART_HUB: String(hub) }, { account: HUB, clock: () => new Date('2024-06-03T16:00:00Z') });
}

interface SweepRun {
  status: 'succeeded' | 'failed';
  error?: string;
  /** Every page the sweep function answered, in order. */
  pages: SweepPageOutput[];
  /** The task states called, in order. */
  calls: string[];
}

/**
 * Runs the synthesized sweep. Each page may take `resourcesPerPage` resources before the Lambda
 * says its time is nearly up (the remaining time drops below the page's safety margin).
 */
async function runSweep(sweep: SynthesizedSweep, deps: GuardDeps, input: Json, resourcesPerPage = Infinity): Promise<SweepRun> {
  const sweepPage = makeSweepHandler(() => deps);
  const accounts = makeOrgAccountsHandler(() => deps);
  const pages: SweepPageOutput[] = [];
  const calls: string[] = [];
  const local: Record<string, (input: unknown) => Promise<unknown>> = {};
  for (const [state, entry] of Object.entries(sweep.entryOfState)) {
    local[state] = async (taskInput) => {
      calls.push(state);
      // a JSON round trip, as between Step Functions and Lambda
      const payload = JSON.parse(JSON.stringify(taskInput)) as never;
      if (entry === 'org-accounts') return JSON.parse(JSON.stringify(await accounts(payload)));
      let asked = 0;
      const context = { getRemainingTimeInMillis: () => (asked++ < resourcesPerPage ? 600_000 : 1_000) };
      const out = await sweepPage(payload, context);
      pages.push(out);
      return JSON.parse(JSON.stringify(out));
    };
  }
  const machine = new StateMachine(sweep.definition as never, { validationOptions: { checkArn: true, checkPaths: true } });
  const execution = machine.run(input as never, {
    overrides: { taskResourceLocalHandlers: local as never },
    context: { Execution: { Id: `arn:aws:states:us-east-1:${HUB}:execution:sweep:sweep-1`, Name: 'sweep-1' } },
  });
  try {
    await execution.result;
    return { status: 'succeeded', pages, calls };
  } catch (error) {
    const cause = (error as Error).cause as Error | undefined;
    return {
      status: 'failed',
      error: `${cause?.name ?? (error as Error).name}: ${cause?.message ?? (error as Error).message}`,
      pages,
      calls,
    };
  }
}

describe('the synthesized sweep state machine, run locally', () => {
  const sfn = mockClient(SFNClient);
  const organizations = mockClient(OrganizationsClient);
  let aws: FakeAws;
  let sts: FakeSts;

  beforeEach(() => {
    aws = new FakeAws();
    sts = new FakeSts(aws.world);
    sfn.reset();
    new FakeStepFunctions(sfn);
    organizations.reset();
    organizations.on(ListParentsCommand).resolves({ Parents: [{ Id: 'r-ab12', Type: 'ROOT' }] });
  });
  afterEach(() => {
    aws.restore();
    sts.mock.restore();
  });
  afterAll(() => {
    sfn.restore();
    organizations.restore();
  });

  const started = () => sfn.commandCalls(StartExecutionCommand).map((c) => JSON.parse(String(c.args[0].input.input)) as WorkflowInput);

  it('sweeps a control in several pages, each resuming after the last resource the previous one took', async () => {
    const policy = parse({ controls: { 's3-default-encryption': { algorithm: 'AES256' } } });
    for (const name of ['a', 'b', 'c', 'd', 'e']) aws.buckets.set(name, name === 'b' || name === 'd' ? { rule: AES256 } : {});

    const run = await runSweep(synthesizeSweep(policy, false), guardDeps(policy, false), { controls: ['s3-default-encryption'] }, 2);

    expect(run).toMatchObject({ status: 'succeeded' });
    expect(run.pages.map((p) => p.startAfter)).toEqual(['arn:aws:s3:::b', 'arn:aws:s3:::d', undefined]);
    expect(run.pages.reduce((n, p) => n + p.resources, 0)).toBe(5);
    expect(
      started()
        .map((i) => i.finding.resourceArn)
        .sort(),
    ).toEqual(['arn:aws:s3:::a', 'arn:aws:s3:::c', 'arn:aws:s3:::e']);
  });

  describe('in a hub', () => {
    const POLICY = parse({
      organization: { id: 'o-a1b2c3d4e5', regions: ['us-east-1'], sweep: { maxConcurrency: 5, toleratedFailurePercentage: 0 } },
      controls: { 's3-default-encryption': { algorithm: 'AES256' } },
    });

    beforeEach(() => {
      organizations.on(ListAccountsCommand).resolves({
        Accounts: [
          { Id: HUB, Name: 'security', State: 'ACTIVE' },
          { Id: MEMBER, Name: 'payments', State: 'ACTIVE' },
          { Id: OTHER, Name: 'no-member-stack', State: 'ACTIVE' },
          { Id: SUSPENDED, Name: 'closed', State: 'SUSPENDED' },
        ],
      });
    });

    it('sweeps every active member account through its read role, one child of the Distributed Map each, beside the guard itself', async () => {
      aws.buckets.set('hub-logs', {});
      aws.services.s3.bucketsOf(MEMBER).set('payments-logs', {});
      aws.services.s3.bucketsOf(MEMBER).set('payments-ok', { rule: AES256 });
      const sweep = synthesizeSweep(POLICY, true);

      const run = await runSweep(sweep, guardDeps(POLICY, true), { controls: ['s3-default-encryption'] });

      expect(run).toMatchObject({ status: 'succeeded' });
      expect(
        started()
          .map((i) => [i.finding.account, i.finding.resourceArn])
          .sort(),
      ).toEqual([
        [HUB, 'arn:aws:s3:::hub-logs'],
        [MEMBER, 'arn:aws:s3:::payments-logs'],
      ]);
      // the hub account is swept by the guard's own branch, the suspended account not at all
      expect(run.pages.map((p) => p.account ?? HUB).sort()).toEqual([HUB, MEMBER, OTHER]);
      expect(new Set(sts.calls.map((c) => c.roleArn))).toEqual(
        new Set([`arn:aws:iam::${MEMBER}:role/RampartRead`, `arn:aws:iam::${OTHER}:role/RampartRead`]),
      );
    });

    it('reports an account whose role cannot be assumed, with the error, and sweeps the others to the end', async () => {
      aws.services.s3.bucketsOf(MEMBER).set('payments-logs', {});
      sts.unreachable.add(OTHER);

      // no failure tolerated: the unreachable account must not count as one
      const run = await runSweep(synthesizeSweep(POLICY, true), guardDeps(POLICY, true), { controls: ['s3-default-encryption'] });

      expect(run).toMatchObject({ status: 'succeeded' });
      const other = run.pages.find((p) => p.account === OTHER);
      expect(other?.unreachable?.error).toMatch(new RegExp(`cannot assume arn:aws:iam::${OTHER}:role/RampartRead .*AccessDenied`));
      expect(started().map((i) => i.finding.account)).toEqual([MEMBER]);
    });
  });
});
