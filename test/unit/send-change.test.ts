import { APIGatewayClient, UpdateStageCommand } from '@aws-sdk/client-api-gateway';
import * as apiGatewaySdk from '@aws-sdk/client-api-gateway';
import { mockClient } from 'aws-sdk-client-mock';
import { createAwsClients } from '../../core/aws';
import type { Change } from '../../core/control';
import { sendChange } from '../../remediators/send-change';

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
