import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient, STSServiceException } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import type { FakeWorld } from './world';

/**
 * STS AssumeRole into member accounts: each account's role gives credentials whose access key
 * the other fakes map back to that account (`world.accountOfKey`), so a call made with them
 * lands in that account's state. An account in `unreachable` refuses (AccessDenied, as STS
 * answers when the role's trust or an SCP denies), a role name not in `roles` does not exist.
 * GetCallerIdentity answers the account of the credentials the client signs with (the home
 * account for any other key).
 * Shapes: STS API Reference, AssumeRole (Credentials: AccessKeyId, SecretAccessKey, SessionToken, Expiration),
 * GetCallerIdentity (UserId, Account, Arn).
 */
export class FakeSts {
  readonly mock = mockClient(STSClient);
  readonly unreachable = new Set<string>();
  readonly roles = new Set(['RampartRead', 'RampartRemediate']);
  /** Credentials last this long. */
  lifetimeMs = 3_600_000;
  now: () => Date = () => new Date();
  readonly calls: Array<{ roleArn: string; session: string }> = [];

  constructor(private readonly world: FakeWorld) {
    // who the caller is: the account of its credentials (STS API Reference, GetCallerIdentity: UserId, Account, Arn)
    this.mock.on(GetCallerIdentityCommand).callsFake(async (_input, getClient) => {
      const account = await this.world.accountOf(getClient);
      return { UserId: 'AIDACKCEVSQ6C2EXAMPLE', Account: account, Arn: `arn:aws:iam::${account}:user/operator` };
    });
    this.mock.on(AssumeRoleCommand).callsFake((input: { RoleArn: string; RoleSessionName: string }) => {
      this.calls.push({ roleArn: input.RoleArn, session: input.RoleSessionName });
      if (!/^[\w+=,.@-]{2,64}$/.test(input.RoleSessionName))
        throw stsError('ValidationError', `bad RoleSessionName ${input.RoleSessionName}`);
      const [, account, role] = /^arn:aws:iam::(\d{12}):role\/(.+)$/.exec(input.RoleArn) ?? [];
      if (!account || !role || this.unreachable.has(account) || !this.roles.has(role)) {
        throw stsError(
          'AccessDenied',
          `User: arn:aws:sts::111122223333:assumed-role/hub/x is not authorized to perform: sts:AssumeRole on resource: ${input.RoleArn}`,
        );
      }
      const key = `ASIA${account}${this.calls.length}`;
      this.world.accountOfKey.set(key, account);
      return {
        Credentials: {
          AccessKeyId: key,
          SecretAccessKey: 'secret',
          SessionToken: 'token',
          Expiration: new Date(this.now().getTime() + this.lifetimeMs),
        },
        AssumedRoleUser: {
          Arn: `arn:aws:sts::${account}:assumed-role/${role}/${input.RoleSessionName}`,
          AssumedRoleId: `AROA:${input.RoleSessionName}`,
        },
      };
    });
  }
}

function stsError(name: string, message: string): STSServiceException {
  return new STSServiceException({ name, $fault: 'client', $metadata: { httpStatusCode: 403 }, message });
}
