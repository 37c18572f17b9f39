import { GetClientCertificateCommand, GetStageCommand } from '@aws-sdk/client-api-gateway';
import { createAwsClients } from '../../core/aws';
import type { Finding } from '../../core/finding';
import { InMemoryFixLedger } from '../../core/fix-budget';
import { InMemoryLastKnownGood } from '../../core/last-known-good';
import { ALL_CONTROLS, DETECTORS } from '../../controls';
import { parsePolicy } from '../../controls/policy';
import { stageRef } from '../../detectors/apigateway-resources';
import {
  clientCertificateDetector,
  evaluateClientCertificate,
  type ClientCertificateState,
} from '../../detectors/apigateway-client-certificate';
import { judgeEvent } from '../../detectors/judge';
import { EventRouter } from '../../detectors/router';
import { planClientCertificate } from '../../remediators/apigateway-client-certificate';
import { remediate, type RemediationContext } from '../../remediators/remediate';
import { FakeAws } from '../fakes';
import { fixtureEvent } from '../helpers';

const ACCOUNT = '111122223333';
const CONTROL = 'apigateway-client-certificate' as const;
const LIVE = stageRef('us-east-1', 'm7n8o9p0q1', 'live', ACCOUNT);
const PROD = stageRef('us-east-1', 'a1b2c3d4e5', 'prod', ACCOUNT);
const policyOf = (input: object = {}) => parsePolicy({ controls: { [CONTROL]: { stages: ['m7n8o9p0q1/live', 'a1b2c3d4e5'], ...input } } });
const POLICY = policyOf();
const slice = POLICY.controls[CONTROL]!;
const router = new EventRouter(DETECTORS);
const NOW = '2024-06-03T16:00:00.000Z';
const finding = (arn = LIVE.arn) => ({ resourceArn: arn }) as Finding;

function judged(name: string) {
  return judgeEvent(fixtureEvent(name), POLICY, router).judgements.filter((j) => j.control === CONTROL);
}

describe('apigateway-client-certificate evaluate', () => {
  const cert = (expirationDate: string | null): ClientCertificateState => ({ clientCertificateId: 'q9r8s7', expirationDate, readAt: NOW });

  it('accepts a certificate valid for more than renewBeforeDays, and flags one within or past it', () => {
    expect(evaluateClientCertificate(cert('2024-08-01T00:00:00.000Z'), slice, LIVE)).toEqual({ status: 'compliant' });
    expect(evaluateClientCertificate(cert('2024-06-20T00:00:00.000Z'), slice, LIVE)).toMatchObject({
      status: 'violation',
      observed: { clientCertificateId: 'q9r8s7', daysLeft: 16 },
      reason: 'client certificate q9r8s7 expires on 2024-06-20T00:00:00.000Z (in 16 days), within renewBeforeDays 30',
    });
    expect(evaluateClientCertificate(cert('2024-06-01T00:00:00.000Z'), slice, LIVE)).toMatchObject({
      status: 'violation',
      reason: 'client certificate q9r8s7 expired on 2024-06-01T00:00:00.000Z, within renewBeforeDays 30',
    });
    expect(
      evaluateClientCertificate(cert('2024-06-20T00:00:00.000Z'), policyOf({ renewBeforeDays: 7 }).controls[CONTROL]!, LIVE).status,
    ).toBe('compliant');
  });

  it('requires a certificate only of the stages the policy names (a stage, or every stage of an API)', () => {
    const none: ClientCertificateState = { clientCertificateId: null };

    expect(evaluateClientCertificate(none, slice, LIVE)).toMatchObject({
      status: 'violation',
      reason: 'the stage presents no client certificate to its backend',
    });
    expect(evaluateClientCertificate(none, slice, PROD).status).toBe('violation');
    expect(evaluateClientCertificate(none, slice, stageRef('us-east-1', 'm7n8o9p0q1', 'dev')).status).toBe('compliant');
  });

  it('flags a certificate that no longer exists, on any stage', () => {
    expect(evaluateClientCertificate(cert(null), slice, stageRef('us-east-1', 'zz', 'x'))).toMatchObject({
      status: 'violation',
      reason: 'the stage presents client certificate q9r8s7, which no longer exists',
    });
  });
});

describe('apigateway-client-certificate from events', () => {
  it('reads an UpdateStage that removes the certificate; the plan restores the last known good one', () => {
    const [j] = judged('apigateway-UpdateStage.client-certificate-removed-constructed.json');

    expect(j).toMatchObject({ outcome: 'violation', ref: { arn: PROD.arn } });
    const state = (j as { state: ClientCertificateState }).state;
    expect(state).toEqual({ clientCertificateId: null });
    expect(planClientCertificate(finding(PROD.arn), state, slice, { clientCertificateId: 'k1j2h3' }).change).toEqual({
      service: 'apigateway',
      operation: 'UpdateStage',
      region: 'us-east-1',
      input: {
        restApiId: 'a1b2c3d4e5',
        stageName: 'prod',
        patchOperations: [{ op: 'replace', path: '/clientCertificateId', value: 'k1j2h3' }],
      },
    });
    expect(planClientCertificate(finding(PROD.arn), state, slice)).toMatchObject({ change: null });
    // without a last known good one, the policy's certificate for the API
    const named = policyOf({ certificates: { a1b2c3d4e5: 'p0l1c2' } }).controls[CONTROL]!;
    expect(planClientCertificate(finding(PROD.arn), state, named).change?.input).toMatchObject({
      patchOperations: [{ op: 'replace', path: '/clientCertificateId', value: 'p0l1c2' }],
    });
  });

  it('knows a new named stage presents no certificate; says unknown where the expiry is not in the event', () => {
    expect(judged('apigateway-CreateStage.rest-constructed.json')).toMatchObject([{ outcome: 'compliant' }]);
    expect(judged('config-ConfigurationItemChangeNotification.stage-cached-unencrypted-constructed.json')).toMatchObject([
      { outcome: 'unknown', reason: 'the expiry of client certificate q9r8s7 is not in the event' },
    ]);
    expect(judged('apigateway-UpdateStage.throttle-over-constructed.json')).toMatchObject([{ outcome: 'unknown' }]);
  });

  it('reports an expiring certificate without replacing it: the plan says how to rotate', () => {
    const plan = planClientCertificate(
      finding(),
      { clientCertificateId: 'q9r8s7', expirationDate: '2024-06-10T00:00:00.000Z', readAt: NOW },
      slice,
      {
        clientCertificateId: 'older',
      },
    );

    expect(plan.change).toBeNull();
    expect(plan.change === null && plan.reason).toMatch(/GenerateClientCertificate, then UpdateStage \/clientCertificateId/);
  });
});

describe('apigateway-client-certificate against the API Gateway fake', () => {
  let aws: FakeAws;
  let ctx: RemediationContext;
  const clients = () =>
    createAwsClients({ region: 'us-east-1', regions: ['us-east-1'], credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });

  beforeEach(() => {
    aws = new FakeAws();
    aws.services.apiGateway.clientCertificates.set('q9r8s7', {
      createdDate: new Date('2024-01-01T00:00:00Z'),
      expirationDate: new Date('2024-06-20T00:00:00Z'),
    });
    aws.services.apiGateway.clientCertificates.set('k1j2h3', {
      createdDate: new Date('2024-05-01T00:00:00Z'),
      expirationDate: new Date('2099-05-01T00:00:00Z'),
    });
    aws.stages.set(LIVE.arn, { methodSettings: {}, clientCertificateId: 'q9r8s7' });
    aws.stages.set(PROD.arn, { methodSettings: {} });
    ctx = {
      controls: ALL_CONTROLS,
      policy: POLICY,
      clients: clients(),
      lastKnownGood: new InMemoryLastKnownGood(),
      fixes: new InMemoryFixLedger(),
      clock: () => new Date(NOW),
      account: ACCOUNT,
      verifyDelayMs: 1,
      sleep: async () => undefined,
    };
  });
  afterEach(() => aws.restore());

  it('reads the certificate expiry at the injected time: 16 days left is a finding', async () => {
    const detector = clientCertificateDetector(() => new Date(NOW));

    const observation = await detector.readState(LIVE, ctx.clients);

    expect(observation).toMatchObject({
      status: 'known',
      state: { clientCertificateId: 'q9r8s7', expirationDate: '2024-06-20T00:00:00.000Z', readAt: NOW },
    });
    expect(aws.apiGateway.commandCalls(GetClientCertificateCommand)).toHaveLength(1);
    const state = observation.status === 'known' ? observation.state : undefined;
    expect(detector.evaluate(state!, slice, LIVE).status).toBe('violation');
  });

  it('reads a deleted certificate as one that no longer exists', async () => {
    aws.services.apiGateway.clientCertificates.delete('q9r8s7');

    await expect(clientCertificateDetector(() => new Date(NOW)).readState(LIVE, ctx.clients)).resolves.toMatchObject({
      state: { clientCertificateId: 'q9r8s7', expirationDate: null },
    });
  });

  it('puts the last known good certificate back on a stage that lost it, and a GetStage read-back confirms', async () => {
    await ctx.lastKnownGood.put(
      { account: ACCOUNT, control: CONTROL, resourceArn: PROD.arn },
      { clientCertificateId: 'k1j2h3' },
      new Date(NOW),
    );
    const found = {
      id: 'f-1',
      control: CONTROL,
      resourceArn: PROD.arn,
      account: ACCOUNT,
      region: 'us-east-1',
      violation: 'the stage presents no client certificate to its backend',
    } as Finding;

    const outcome = await remediate(found, { ...ctx, policy: policyOf({ risk: 'low' }) });

    expect(outcome).toMatchObject({ outcome: 'remediated', change: { operation: 'UpdateStage' } });
    const read = await clients()
      .get((await import('@aws-sdk/client-api-gateway')).APIGatewayClient)
      .send(new GetStageCommand({ restApiId: 'a1b2c3d4e5', stageName: 'prod' }));
    expect(read.clientCertificateId).toBe('k1j2h3');
  });
});
