import { APIGatewayClient, UpdateStageCommand, UpdateUsagePlanCommand } from '@aws-sdk/client-api-gateway';
import * as apiGatewaySdk from '@aws-sdk/client-api-gateway';
import { mockClient } from 'aws-sdk-client-mock';
import { createAwsClients } from '../../core/aws';
import { describeChange, type Change } from '../../core/control';
import { sendChange, sendChanges } from '../../remediators/send-change';

const change: Change = {
  service: 'apigateway',
  operation: 'UpdateStage',
  region: 'eu-west-1',
  input: { restApiId: 'a1b2c3', stageName: 'prod', patchOperations: [{ op: 'replace', path: '/*/*/throttling/rateLimit', value: '100' }] },
};

describe('sendChange', () => {
  const api = mockClient(APIGatewayClient);
  beforeEach(() => api.reset());

  it('sends the planned input as the command of its operation, in its region', async () => {
    api.on(UpdateStageCommand).resolves({});
    const clients = createAwsClients({ region: 'us-east-1' });

    await sendChange(apiGatewaySdk, APIGatewayClient, change, clients, ['UpdateStage', 'UpdateUsagePlan']);

    expect(api).toHaveReceivedCommandTimes(UpdateStageCommand, 1);
    expect(api).toHaveReceivedCommandWith(UpdateStageCommand, change.input);
    expect(await api.call(0).thisValue.config.region()).toBe('eu-west-1');
  });

  it('refuses an operation the control does not declare, sending nothing', async () => {
    const clients = createAwsClients({ region: 'us-east-1' });

    await expect(
      sendChange(apiGatewaySdk, APIGatewayClient, { ...change, operation: 'DeleteStage' }, clients, ['UpdateStage']),
    ).rejects.toThrow(/cannot apply DeleteStage/);
    expect(api.calls()).toHaveLength(0);
  });
});

describe('sendChanges', () => {
  const api = mockClient(APIGatewayClient);
  beforeEach(() => api.reset());
  const usagePlan: Change = {
    service: 'apigateway',
    operation: 'UpdateUsagePlan',
    region: 'eu-west-1',
    input: { usagePlanId: 'u1', patchOperations: [] },
  };
  const chained: Change = { ...change, followUps: [usagePlan] };

  it('sends the change, then its follow-ups, in order', async () => {
    api.on(UpdateStageCommand).resolves({}).on(UpdateUsagePlanCommand).resolves({});

    await sendChanges(apiGatewaySdk, APIGatewayClient, chained, createAwsClients({ region: 'us-east-1' }), [
      'UpdateStage',
      'UpdateUsagePlan',
    ]);

    expect(api.calls().map((c) => c.args[0].constructor.name)).toEqual(['UpdateStageCommand', 'UpdateUsagePlanCommand']);
    expect(describeChange(chained)).toBe(
      `UpdateStage ${JSON.stringify(change.input)}, then UpdateUsagePlan ${JSON.stringify(usagePlan.input)}`,
    );
  });

  it('sends no follow-up after a call that failed', async () => {
    api.on(UpdateStageCommand).rejects(new Error('throttled'));

    await expect(
      sendChanges(apiGatewaySdk, APIGatewayClient, chained, createAwsClients({ region: 'us-east-1' }), ['UpdateStage', 'UpdateUsagePlan']),
    ).rejects.toThrow('throttled');
    expect(api).toHaveReceivedCommandTimes(UpdateUsagePlanCommand, 0);
  });

  it('names what was made when a follow-up fails, as an error that is not retried', async () => {
    api
      .on(UpdateStageCommand)
      .resolves({})
      .on(UpdateUsagePlanCommand)
      .rejects(Object.assign(new Error('Rate exceeded'), { name: 'TooManyRequestsException' }));

    await expect(
      sendChanges(apiGatewaySdk, APIGatewayClient, chained, createAwsClients({ region: 'us-east-1' }), ['UpdateStage', 'UpdateUsagePlan']),
    ).rejects.toMatchObject({
      name: 'Rampart.PartlyApplied',
      message: `UpdateStage made; UpdateUsagePlan ${JSON.stringify(usagePlan.input)} failed (TooManyRequestsException: Rate exceeded): the fix is not complete until it is made`,
    });
    expect(api).toHaveReceivedCommandTimes(UpdateUsagePlanCommand, 1);
  });

  it('refuses the whole fix before the first call when a follow-up is not declared', async () => {
    await expect(
      sendChanges(apiGatewaySdk, APIGatewayClient, chained, createAwsClients({ region: 'us-east-1' }), ['UpdateStage']),
    ).rejects.toThrow(/cannot apply UpdateUsagePlan/);
    expect(api.calls()).toHaveLength(0);
  });
});

describe('describeChange', () => {
  it('shows the follow-ups after the first call, and the notice last', () => {
    const deployed: Change = {
      ...change,
      followUps: [{ service: 'apigateway', operation: 'CreateDeployment', region: 'eu-west-1', input: { stageName: 'prod' } }],
      notice: 'A deployment also ships every other undeployed change of the API.',
    };

    expect(describeChange(deployed)).toBe(
      `UpdateStage ${JSON.stringify(change.input)}, then CreateDeployment {"stageName":"prod"}. A deployment also ships every other undeployed change of the API.`,
    );
    expect(describeChange(change)).toBe(`UpdateStage ${JSON.stringify(change.input)}`);
  });
});
