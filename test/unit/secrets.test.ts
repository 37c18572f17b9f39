import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { SecretCache } from '../../core/secrets';

describe('SecretCache', () => {
  const sm = mockClient(SecretsManagerClient);
  afterAll(() => sm.restore());

  it('reads a secret once per TTL, then again (a rotation is picked up)', async () => {
    sm.reset();
    sm.on(GetSecretValueCommand).resolvesOnce({ SecretString: 'v1' }).resolves({ SecretString: 'v2' });
    let now = 0;
    const cache = new SecretCache(new SecretsManagerClient({ region: 'us-east-1' }), 1000, () => now);

    const first = await cache.get('arn:s');
    now = 999;
    const cached = await cache.get('arn:s');
    now = 1001;
    const rotated = await cache.get('arn:s');

    expect([first, cached, rotated]).toEqual(['v1', 'v1', 'v2']);
    expect(sm).toHaveReceivedCommandTimes(GetSecretValueCommand, 2);
    expect(sm).toHaveReceivedCommandWith(GetSecretValueCommand, { SecretId: 'arn:s' });
  });

  it('refuses a binary secret with a clear message', async () => {
    sm.reset();
    sm.on(GetSecretValueCommand).resolves({ SecretBinary: new Uint8Array([1]) });

    await expect(new SecretCache(new SecretsManagerClient({ region: 'us-east-1' })).get('arn:b')).rejects.toThrow(
      'secret arn:b has no string value',
    );
  });
});
