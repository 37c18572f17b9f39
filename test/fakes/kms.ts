import { DescribeKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { mockClient } from 'aws-sdk-client-mock';

/** KMS aliases (alias name or ARN → key ARN), behind a mocked KMSClient. */
export class FakeKms {
  readonly aliases = new Map<string, string>();
  readonly mock = mockClient(KMSClient);

  constructor() {
    this.mock.on(DescribeKeyCommand).callsFake((input: { KeyId: string }) => {
      const arn = input.KeyId.startsWith('arn:aws:kms') && input.KeyId.includes(':key/') ? input.KeyId : this.aliases.get(input.KeyId);
      if (!arn) throw new Error(`fake KMS: unknown key ${input.KeyId}`);
      return { KeyMetadata: { KeyId: arn.split('/')[1], Arn: arn } };
    });
  }
}
