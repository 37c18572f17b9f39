import {
  APIGatewayClient,
  GetRestApisCommand,
  GetStageCommand,
  GetUsagePlanCommand,
  GetUsagePlansCommand,
  NotFoundException,
} from '@aws-sdk/client-api-gateway';
import { mockClient } from 'aws-sdk-client-mock';
import { stageRef, usagePlanRef } from '../../detectors/apigateway-resources';
import { createAwsClients } from '../../core/aws';
import { parseEvent } from '../../core/events';
import { parsePolicy } from '../../controls/policy';
import { apigatewayThrottling, evaluateThrottling, type ThrottlingState } from '../../detectors/apigateway-throttling';
import { fixture, fixtureEvent } from '../helpers';

const policy = (input: object = {}) =>
  parsePolicy({ controls: { 'apigateway-throttling': { rateLimit: 1000, burstLimit: 500, ...input } } }).controls['apigateway-throttling']!;
const stage = (methods: Extract<ThrottlingState, { kind: 'stage' }>['methods'], complete = true): ThrottlingState => ({
  kind: 'stage',
  methods,
  complete,
});
const plan = (
  rateLimit: number | null | undefined,
  burstLimit: number | null | undefined,
  quotaLimit?: number | null,
  complete = true,
): ThrottlingState => ({
  kind: 'usage-plan',
  throttle: { rateLimit, burstLimit },
  quotaLimit,
  complete,
});

describe('apigateway-throttling evaluate', () => {
  it.each([
    ['below', 999, 499, 'compliant'],
    ['at', 1000, 500, 'compliant'],
    ['rate above', 1001, 500, 'violation'],
    ['burst above', 1000, 501, 'violation'],
  ])('stage limits %s the maximum → %s', (_label, rate, burst, status) => {
    expect(evaluateThrottling(stage({ '*/*': { rateLimit: rate, burstLimit: burst } }), policy()).status).toBe(status);
  });

  it('flags a stage with no stage-wide throttling, naming both limits', () => {
    expect(evaluateThrottling(stage({}), policy())).toEqual({
      status: 'violation',
      observed: { rateLimit: null, burstLimit: null },
      desired: { rateLimit: 1000, burstLimit: 500 },
      reason: 'stage rate limit is not set; stage burst limit is not set',
    });
  });

  it('flags a per-method override above the maximum but not an unset one', () => {
    const state = stage({ '*/*': { rateLimit: 100, burstLimit: 50 }, '~1pets/GET': { rateLimit: 5000, burstLimit: null } });

    expect(evaluateThrottling(state, policy())).toEqual({
      status: 'violation',
      observed: { rateLimit: 100, burstLimit: 50, methods: { '~1pets/GET': { rateLimit: 5000, burstLimit: null } } },
      desired: { rateLimit: 1000, burstLimit: 500 },
      reason: 'method ~1pets/GET rate limit 5000 rps is above the maximum 1000',
    });
    expect(
      evaluateThrottling(
        stage({ '*/*': { rateLimit: 100, burstLimit: 50 }, '~1pets/GET': { rateLimit: null, burstLimit: null } }),
        policy(),
      ).status,
    ).toBe('compliant');
  });

  it('says unknown when the limit that decides is not revealed, and violation when a revealed one is over', () => {
    expect(evaluateThrottling(stage({ '*/*': { rateLimit: 10 } }, false), policy())).toEqual({
      status: 'unknown',
      reason: 'the event does not reveal the stage burst limit',
    });
    expect(evaluateThrottling(stage({ '*/*': { rateLimit: 5000 } }, false), policy()).status).toBe('violation');
  });

  it('judges usage plans against their own maxima, defaulting to the stage ones', () => {
    expect(evaluateThrottling(plan(800, 400), policy()).status).toBe('compliant');
    expect(evaluateThrottling(plan(800, 400), policy({ usagePlans: { rateLimit: 100 } }))).toMatchObject({
      status: 'violation',
      desired: { rateLimit: 100, burstLimit: 500 },
      reason: 'usage plan rate limit 800 rps is above the maximum 100',
    });
    expect(evaluateThrottling(plan(null, null), policy()).status).toBe('violation');
  });

  it('checks the quota only when the policy caps it', () => {
    expect(evaluateThrottling(plan(10, 10, null), policy()).status).toBe('compliant');
    expect(evaluateThrottling(plan(10, 10, null), policy({ usagePlans: { quotaLimit: 1000 } }))).toMatchObject({
      status: 'violation',
      reason: 'usage plan quota is not set',
    });
    expect(evaluateThrottling(plan(10, 10, 5000), policy({ usagePlans: { quotaLimit: 1000 } }))).toMatchObject({
      status: 'violation',
      observed: { rateLimit: 10, burstLimit: 10, quotaLimit: 5000 },
    });
  });
});

describe('apigateway-throttling from events', () => {
  const { resourcesFrom, stateFrom } = apigatewayThrottling;

  it('reads string patch values of UpdateStage as numbers', () => {
    const event = fixtureEvent('apigateway-UpdateStage.throttle-over-constructed.json');
    const [ref] = resourcesFrom(event);

    expect(ref?.arn).toBe('arn:aws:apigateway:us-east-1::/restapis/a1b2c3d4e5/stages/prod');
    expect(stateFrom(event, ref!)).toEqual({
      status: 'known',
      state: { kind: 'stage', methods: { '*/*': { rateLimit: 2000, burstLimit: 1000 } }, complete: false },
    });
  });

  it('says unknown for an UpdateStage that patches no throttling', () => {
    const event = fixtureEvent('apigateway-UpdateStage.unrelated-paths-constructed.json');

    expect(stateFrom(event, resourcesFrom(event)[0]!)).toEqual({
      status: 'unknown',
      reason: 'UpdateStage patches /*/*/logging/loglevel, /tracingEnabled; the throttling is not in the event',
    });
  });

  it('reads per-method patch paths (~1 for /) and removals', () => {
    const raw = fixture('apigateway-UpdateStage.throttle-over-constructed.json');
    const body = (raw.detail as { requestParameters: { updateStageInput: { patchOperations: unknown[] } } }).requestParameters
      .updateStageInput;
    body.patchOperations = [
      { op: 'replace', path: '/~1pets/GET/throttling/rateLimit', value: '50' },
      { op: 'remove', path: '/*/*/throttling/burstLimit' },
    ];
    const event = parseEvent(raw);

    expect(stateFrom(event, resourcesFrom(event)[0]!)).toEqual({
      status: 'known',
      state: { kind: 'stage', methods: { '~1pets/GET': { rateLimit: 50 }, '*/*': { burstLimit: null } }, complete: false },
    });
  });

  it('leaves HTTP API (apigatewayv2) stages alone: they carry apiId, not restApiId', () => {
    expect(resourcesFrom(fixtureEvent('apigateway-UpdateStage.httpapi-adapted.json'))).toEqual([]);
  });

  it('knows a new REST stage starts without method throttling', () => {
    const event = fixtureEvent('apigateway-CreateStage.rest-constructed.json');

    expect(stateFrom(event, resourcesFrom(event)[0]!)).toEqual({ status: 'known', state: { kind: 'stage', methods: {}, complete: true } });
  });

  it('reads the usage plan id of CreateUsagePlan from the response and its numeric throttle', () => {
    const event = fixtureEvent('apigateway-CreateUsagePlan.within-limits-constructed.json');
    const [ref] = resourcesFrom(event);

    expect(ref?.arn).toBe('arn:aws:apigateway:us-east-1::/usageplans/c4d5e6');
    expect(stateFrom(event, ref!)).toEqual({
      status: 'known',
      state: { kind: 'usage-plan', throttle: { rateLimit: 100, burstLimit: 200 }, quotaLimit: 50000, complete: true },
    });
  });

  it('reads UpdateUsagePlan throttle patches', () => {
    const event = fixtureEvent('apigateway-UpdateUsagePlan.throttle-over-constructed.json');
    const [ref] = resourcesFrom(event);

    expect(ref?.arn).toBe('arn:aws:apigateway:us-east-1::/usageplans/u1p2l3');
    expect(stateFrom(event, ref!)).toEqual({
      status: 'known',
      state: { kind: 'usage-plan', throttle: { rateLimit: 5000 }, quotaLimit: undefined, complete: false },
    });
  });

  it('reads the methodSettings map of a Config stage item', () => {
    const event = fixtureEvent('config-ConfigurationItemChangeNotification.stage-compliant-constructed.json');

    expect(stateFrom(event, resourcesFrom(event)[0]!)).toEqual({
      status: 'known',
      state: { kind: 'stage', methods: { '*/*': { rateLimit: 800, burstLimit: 400 } }, complete: true },
      tags: {},
    });
  });
});

describe('apigateway-throttling readState and list', () => {
  const apigw = mockClient(APIGatewayClient);
  const clients = createAwsClients({ region: 'eu-west-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  beforeEach(() => apigw.reset());

  it('reads a stage with GetStage', async () => {
    apigw.on(GetStageCommand).resolves({
      stageName: 'prod',
      methodSettings: { '*/*': { throttlingRateLimit: 100, throttlingBurstLimit: 50 } },
      tags: { team: 'payments' },
    });

    expect(await apigatewayThrottling.readState(stageRef('eu-west-1', 'api1', 'prod'), clients)).toEqual({
      status: 'known',
      state: { kind: 'stage', methods: { '*/*': { rateLimit: 100, burstLimit: 50 } }, complete: true },
      tags: { team: 'payments' },
    });
    expect(apigw).toHaveReceivedCommandWith(GetStageCommand, { restApiId: 'api1', stageName: 'prod' });
  });

  it('reads a usage plan with GetUsagePlan', async () => {
    apigw
      .on(GetUsagePlanCommand)
      .resolves({ id: 'up1', throttle: { rateLimit: 20, burstLimit: 10 }, quota: { limit: 100, period: 'DAY' } });

    expect(await apigatewayThrottling.readState(usagePlanRef('eu-west-1', 'up1'), clients)).toEqual({
      status: 'known',
      state: { kind: 'usage-plan', throttle: { rateLimit: 20, burstLimit: 10 }, quotaLimit: 100, complete: true },
    });
  });

  it('says gone on NotFoundException', async () => {
    apigw.on(GetStageCommand).rejects(new NotFoundException({ message: 'Invalid stage identifier specified', $metadata: {} }));

    expect((await apigatewayThrottling.readState(stageRef('eu-west-1', 'api1', 'gone'), clients)).status).toBe('gone');
  });

  it('lists stages and usage plans over all pages', async () => {
    apigw.on(GetRestApisCommand).resolves({ items: [] });
    apigw
      .on(GetUsagePlansCommand)
      .resolvesOnce({ items: [{ id: 'up1' }], position: 'p2' })
      .resolvesOnce({ items: [{ id: 'up2' }] });

    const arns = [];
    for await (const ref of apigatewayThrottling.list(clients)) arns.push(ref.arn);

    expect(arns).toEqual(['arn:aws:apigateway:eu-west-1::/usageplans/up1', 'arn:aws:apigateway:eu-west-1::/usageplans/up2']);
  });
});
