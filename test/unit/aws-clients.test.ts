import { GetBucketEncryptionCommand, GetBucketTaggingCommand, S3Client } from '@aws-sdk/client-s3';
import { WAFV2Client } from '@aws-sdk/client-wafv2';
import { createClientFactory } from '../../core/aws';

describe('the client factory', () => {
  const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };

  it('builds one client per class and region, on first use', async () => {
    const clients = createClientFactory({ region: 'us-east-1', credentials }).clientsFor({});

    expect(clients.get(S3Client)).toBe(clients.get(S3Client, 'us-east-1'));
    expect(clients.get(S3Client, 'eu-west-1')).not.toBe(clients.get(S3Client));
    expect(clients.get(WAFV2Client, 'eu-west-1')).toBeInstanceOf(WAFV2Client);
    expect(await clients.get(S3Client, 'eu-west-1').config.region()).toBe('eu-west-1');
  });

  it('keeps the SDK retry strategy: adaptive mode, five attempts', async () => {
    const client = createClientFactory({ credentials }).clientsFor({}).get(WAFV2Client, 'us-east-1');

    expect(await client.config.maxAttempts()).toBe(5);
    expect(((await client.config.retryStrategy()) as { mode?: string }).mode).toBe('adaptive');
  });

  it('scopes client sets by account, with the credentials the provider gives for that account and region', async () => {
    const asked: Array<{ account?: string; region: string }> = [];
    const factory = createClientFactory({
      region: 'us-east-1',
      credentialsProvider: {
        credentialsFor(scope) {
          asked.push(scope);
          return { accessKeyId: `key-${scope.account ?? 'own'}`, secretAccessKey: 'test' };
        },
      },
    });
    const member = factory.clientsFor({ account: '444455556666' });

    expect(member.account).toBe('444455556666');
    expect(factory.clientsFor({ account: '444455556666' })).toBe(member);
    expect(factory.clientsFor({})).not.toBe(member);
    const client = member.get(S3Client, 'eu-west-1');
    expect((await client.config.credentials()).accessKeyId).toBe('key-444455556666');
    expect(asked).toEqual([{ account: '444455556666', region: 'eu-west-1' }]);
  });

  it('resolves the middleware stack once per command class, not on every call', async () => {
    const s3 = createClientFactory({ credentials }).clientsFor({}).get(S3Client, 'us-east-1');
    // a middleware is made into a handler each time the stack is resolved; this one ends every
    // call at the first step, so nothing is signed or sent
    let resolved = 0;
    s3.middlewareStack.add(
      () => {
        resolved++;
        return async () => {
          throw new Error('offline');
        };
      },
      { step: 'initialize', name: 'offline' },
    );

    for (let i = 0; i < 3; i++) {
      await expect(s3.send(new GetBucketTaggingCommand({ Bucket: `b${i}` }))).rejects.toThrow('offline');
      await expect(s3.send(new GetBucketEncryptionCommand({ Bucket: `b${i}` }))).rejects.toThrow('offline');
    }

    expect(resolved).toBe(2);
  });

  it('sends every client to an emulator endpoint, S3 path-style', async () => {
    const clients = createClientFactory({ endpoint: 'http://localhost:4566', credentials }).clientsFor({});
    const s3 = clients.get(S3Client, 'us-east-1');

    expect(s3.config.forcePathStyle).toBe(true);
    expect((await s3.config.endpoint!()).hostname).toBe('localhost');
  });
});
