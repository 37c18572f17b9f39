import { GetAccountCommand, GetStageCommand, UpdateStageCommand } from '@aws-sdk/client-api-gateway';
import { createAwsClients } from '../../core/aws';
import type { Finding } from '../../core/finding';
import { InMemoryFixLedger } from '../../core/fix-budget';
import { InMemoryLastKnownGood } from '../../core/last-known-good';
import { ALL_CONTROLS, DETECTORS } from '../../controls';
import { parsePolicy } from '../../controls/policy';
import { stageRef } from '../../detectors/apigateway-resources';
import { DEFAULT_ACCESS_LOG_FORMAT, apigatewayLogging, evaluateLogging, type StageLoggingState } from '../../detectors/apigateway-logging';
import { judgeEvent } from '../../detectors/judge';
import { EventRouter } from '../../detectors/router';
import { planLogging } from '../../remediators/apigateway-logging';
import { remediate, type RemediationContext } from '../../remediators/remediate';
import { FakeAws } from '../fakes';
import { fixtureEvent } from '../helpers';

const ACCOUNT = '111122223333';
const ACCESS_LOGS = `arn:aws:logs:us-east-1:${ACCOUNT}:log-group:/rampart/api-access`;
const OLD_LOGS = `arn:aws:logs:us-east-1:${ACCOUNT}:log-group:/teams/payments/access`;
const PROD = stageRef('us-east-1', 'a1b2c3d4e5', 'prod', ACCOUNT);
const CONTROL = 'apigateway-logging' as const;
const policyOf = (input: object = {}) => parsePolicy({ controls: { [CONTROL]: { accessLogDestinationArn: ACCESS_LOGS, ...input } } });
const slice = (input: object = {}) => policyOf(input).controls[CONTROL]!;
const router = new EventRouter(DETECTORS);

/** A stage whose logging meets the default policy. */
const good = (over: Partial<StageLoggingState> = {}): StageLoggingState => ({
  accessLogDestinationArn: ACCESS_LOGS,
  accessLogFormat: '$context.requestId',
  loggingLevel: 'ERROR',
  dataTrace: false,
  methodDataTrace: {},
  tracingEnabled: false,
  ...over,
});

function judged(name: string, input: object = {}) {
  return judgeEvent(fixtureEvent(name), policyOf(input), router).judgements.filter((j) => j.control === CONTROL);
}

/** The one violation of the control on a fixture: its finding and the state it judged. */
function violation(name: string): { finding: Finding; state: StageLoggingState } {
  const [j] = judged(name);
  if (j?.outcome !== 'violation') throw new Error(`${name}: expected a violation, got ${j?.outcome}`);
  return { finding: j.finding, state: j.state as StageLoggingState };
}

const finding = (arn = PROD.arn) => ({ resourceArn: arn }) as Finding;

describe('apigateway-logging evaluate', () => {
  it('accepts a stage that logs more than the policy asks (INFO where ERROR is the floor)', () => {
    expect(evaluateLogging(good({ loggingLevel: 'INFO' }), slice(), PROD)).toEqual({ status: 'compliant' });
  });

  it('names each failing setting of a stage that logs nothing', () => {
    const evaluation = evaluateLogging(good({ accessLogDestinationArn: null, accessLogFormat: null, loggingLevel: 'OFF' }), slice(), PROD);

    expect(evaluation).toMatchObject({
      status: 'violation',
      reason:
        'access logging is off (no destination); access logs have no format; execution logging is OFF, the policy requires ERROR at least',
      desired: { accessLogging: true, loggingLevel: 'ERROR or higher', dataTrace: false },
    });
  });

  it('holds a stage to a per-stage exception: INFO and X-Ray for one stage only', () => {
    const p = slice({ stages: { 'a1b2c3d4e5/prod': { executionLogging: 'INFO', tracing: true } } });

    expect(evaluateLogging(good(), p, PROD)).toMatchObject({
      status: 'violation',
      reason: 'execution logging is ERROR, the policy requires INFO at least; X-Ray tracing is off',
    });
    expect(evaluateLogging(good(), p, stageRef('us-east-1', 'a1b2c3d4e5', 'dev')).status).toBe('compliant');
  });

  it('flags full request/response logging on one method, and allows it where the policy does', () => {
    const state = good({ methodDataTrace: { '~1pets/GET': true } });

    expect(evaluateLogging(state, slice(), PROD)).toMatchObject({
      status: 'violation',
      reason: 'full request and response data is logged on ~1pets/GET',
    });
    expect(evaluateLogging(state, slice({ allowDataTrace: true }), PROD).status).toBe('compliant');
  });

  it('says the account has no CloudWatch Logs role when execution logging must be turned on', () => {
    const evaluation = evaluateLogging(good({ loggingLevel: 'OFF', cloudwatchRoleArn: null }), slice(), PROD);

    expect(evaluation.status).toBe('violation');
    expect(evaluation.status === 'violation' && evaluation.reason).toContain('the account has no API Gateway CloudWatch Logs role');
  });

  it('refuses an access log destination that is not a log group or an API Gateway Firehose stream', () => {
    expect(() => policyOf({ accessLogDestinationArn: 'arn:aws:s3:::logs' })).toThrow(/CloudWatch Logs log group ARN/);
  });
});

describe('apigateway-logging from events', () => {
  it('knows a new stage (CreateStage) logs nothing and plans the policy destination, format and level', () => {
    const j = violation('apigateway-CreateStage.rest-constructed.json');

    expect(planLogging(j.finding, j.state, slice()).change?.input).toEqual({
      restApiId: 'k2l3m4n5o6',
      stageName: 'beta',
      patchOperations: [
        { op: 'replace', path: '/accessLogSettings/destinationArn', value: ACCESS_LOGS },
        { op: 'replace', path: '/accessLogSettings/format', value: DEFAULT_ACCESS_LOG_FORMAT },
        { op: 'replace', path: '/*/*/logging/loglevel', value: 'ERROR' },
      ],
    });
  });

  it('reads an UpdateStage that removes access logs, turns execution logging OFF and data trace on (string values)', () => {
    const j = violation('apigateway-UpdateStage.logging-off-constructed.json');

    expect(j.finding.resourceArn).toBe(PROD.arn);
    expect(j.state).toEqual({ accessLogDestinationArn: null, accessLogFormat: null, loggingLevel: 'OFF', dataTrace: true });
    expect(planLogging(j.finding, j.state, slice()).change?.input.patchOperations).toEqual([
      { op: 'replace', path: '/accessLogSettings/destinationArn', value: ACCESS_LOGS },
      { op: 'replace', path: '/accessLogSettings/format', value: DEFAULT_ACCESS_LOG_FORMAT },
      { op: 'replace', path: '/*/*/logging/loglevel', value: 'ERROR' },
      { op: 'replace', path: '/*/*/logging/dataTrace', value: 'false' },
    ]);
  });

  it('says unknown for an UpdateStage that reveals only part of the logging (level INFO, tracing)', () => {
    const [j] = judged('apigateway-UpdateStage.unrelated-paths-constructed.json');

    expect(j).toMatchObject({
      outcome: 'unknown',
      reason: "the event does not reveal the stage's access log destination, access log format, full request/response logging",
    });
  });

  it('says unknown for CreateDeployment, which may target an existing stage', () => {
    expect(judged('apigateway-CreateDeployment.with-stage-constructed.json')).toMatchObject([{ outcome: 'unknown' }]);
  });

  it('judges a Config stage item as a whole: access logs, INFO, tracing on', () => {
    expect(judged('config-ConfigurationItemChangeNotification.stage-cached-unencrypted-constructed.json', { tracing: true })).toMatchObject(
      [{ outcome: 'compliant' }],
    );
    expect(judged('config-ConfigurationItemChangeNotification.stage-no-acl-constructed.json')).toMatchObject([{ outcome: 'violation' }]);
  });

  it('leaves HTTP API stages alone', () => {
    expect(judged('apigateway-UpdateStage.httpapi-adapted.json')).toEqual([]);
  });
});

describe('apigateway-logging plans', () => {
  it('restores the last known good destination, format and a higher level rather than the policy values', () => {
    const lkg = good({ accessLogDestinationArn: OLD_LOGS, accessLogFormat: '$context.requestId $context.status', loggingLevel: 'INFO' });
    const state = good({ accessLogDestinationArn: null, accessLogFormat: null, loggingLevel: 'OFF' });

    expect(planLogging(finding(), state, slice(), lkg).change?.input.patchOperations).toEqual([
      { op: 'replace', path: '/accessLogSettings/destinationArn', value: OLD_LOGS },
      { op: 'replace', path: '/accessLogSettings/format', value: '$context.requestId $context.status' },
      { op: 'replace', path: '/*/*/logging/loglevel', value: 'INFO' },
    ]);
  });

  it('writes nothing to CloudWatch Logs while the account has no role, and says so when nothing else is left', () => {
    const noRole = good({ loggingLevel: 'OFF', cloudwatchRoleArn: null });

    expect(planLogging(finding(), noRole, slice())).toEqual({
      change: null,
      reason: "execution logging (ERROR) needs the account's API Gateway CloudWatch Logs role, which is not set",
    });
    expect(planLogging(finding(), { ...noRole, dataTrace: true }, slice()).change?.input.patchOperations).toEqual([
      { op: 'replace', path: '/*/*/logging/dataTrace', value: 'false' },
    ]);
  });

  it('has no destination to restore without a last known good one or a policy destination', () => {
    const p = parsePolicy({ controls: { [CONTROL]: {} } }).controls[CONTROL]!;

    expect(planLogging(finding(), good({ accessLogDestinationArn: null }), p)).toEqual({
      change: null,
      reason: 'no access log destination to restore: give accessLogDestinationArn in the policy',
    });
  });
});

describe('apigateway-logging against the API Gateway fake', () => {
  let aws: FakeAws;
  let ctx: RemediationContext;
  const POLICY = policyOf({ tracing: true });

  beforeEach(() => {
    aws = new FakeAws();
    aws.stages.set(PROD.arn, { methodSettings: { '*/*': { loggingLevel: 'OFF', dataTraceEnabled: true } }, tracingEnabled: false });
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

  async function findingOnline(): Promise<Finding> {
    const observation = await apigatewayLogging.readState(PROD, ctx.clients);
    expect(observation.status).toBe('known');
    const state = observation.status === 'known' ? observation.state : undefined;
    const evaluation = evaluateLogging(state!, POLICY.controls[CONTROL]!, PROD);
    expect(evaluation.status).toBe('violation');
    return {
      id: 'f-1',
      control: CONTROL,
      resourceArn: PROD.arn,
      account: ACCOUNT,
      region: 'us-east-1',
      violation: evaluation.status === 'violation' ? evaluation.reason : '',
    } as Finding;
  }

  it('reads the stage and the account role, fixes the stage in one UpdateStage, and an independent GetStage confirms', async () => {
    const outcome = await remediate(await findingOnline(), ctx);

    expect(outcome).toMatchObject({ outcome: 'remediated', change: { operation: 'UpdateStage' } });
    expect(aws.apiGateway.commandCalls(GetAccountCommand).length).toBeGreaterThan(0);
    expect(aws.writes).toEqual([`UpdateStage a1b2c3d4e5/prod`]);
    const read = await ctx.clients
      .get((await import('@aws-sdk/client-api-gateway')).APIGatewayClient)
      .send(new GetStageCommand({ restApiId: 'a1b2c3d4e5', stageName: 'prod' }));
    expect(read).toMatchObject({
      accessLogSettings: { destinationArn: ACCESS_LOGS, format: DEFAULT_ACCESS_LOG_FORMAT },
      methodSettings: { '*/*': { loggingLevel: 'ERROR', dataTraceEnabled: false } },
      tracingEnabled: true,
    });
  });

  it('without the account role: fixes what it can, never sends the logging API Gateway would refuse, and the outcome says why', async () => {
    delete aws.services.apiGateway.account.cloudwatchRoleArn;

    const found = await findingOnline();
    const outcome = await remediate(found, ctx);

    expect(found.violation).toContain('the account has no API Gateway CloudWatch Logs role');
    const sent = aws.apiGateway.commandCalls(UpdateStageCommand).map((c) => c.args[0].input.patchOperations?.map((o) => o.path));
    expect(sent).toEqual([['/*/*/logging/dataTrace', '/tracingEnabled']]);
    expect(outcome.outcome).not.toBe('remediated');
    expect(outcome.reason).toContain('CloudWatch Logs role');
  });

  it('says gone for a stage that does not exist', async () => {
    await expect(apigatewayLogging.readState(stageRef('us-east-1', 'nope', 'x'), ctx.clients)).resolves.toMatchObject({ status: 'gone' });
  });
});
