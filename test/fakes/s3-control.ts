import {
  GetPublicAccessBlockCommand,
  NoSuchPublicAccessBlockConfiguration,
  PutPublicAccessBlockCommand,
  S3ControlClient,
  type PublicAccessBlockConfiguration,
} from '@aws-sdk/client-s3-control';
import { mockClient } from 'aws-sdk-client-mock';
import type { FakeWorld } from './world';

/**
 * The account-level Block Public Access of each account (S3 Control), behind a mocked
 * S3ControlClient. Like S3 Control, the account is named by `AccountId`, an account without
 * a configuration answers `NoSuchPublicAccessBlockConfiguration`, and PutPublicAccessBlock
 * replaces the whole configuration (a setting left out is false).
 */
export class FakeS3Control {
  /** Per account id; absent: the account has no configuration. */
  readonly accountBlocks = new Map<string, PublicAccessBlockConfiguration>();
  readonly mock = mockClient(S3ControlClient);

  constructor(world: FakeWorld) {
    this.mock.on(GetPublicAccessBlockCommand).callsFake((input: { AccountId: string }) => {
      const block = this.accountBlocks.get(input.AccountId);
      if (!block)
        throw new NoSuchPublicAccessBlockConfiguration({ message: 'The public access block configuration was not found', $metadata: {} });
      return { PublicAccessBlockConfiguration: structuredClone(block) };
    });
    this.mock
      .on(PutPublicAccessBlockCommand)
      .callsFake((input: { AccountId: string; PublicAccessBlockConfiguration: PublicAccessBlockConfiguration }) => {
        const c = input.PublicAccessBlockConfiguration;
        this.accountBlocks.set(input.AccountId, {
          BlockPublicAcls: c.BlockPublicAcls === true,
          IgnorePublicAcls: c.IgnorePublicAcls === true,
          BlockPublicPolicy: c.BlockPublicPolicy === true,
          RestrictPublicBuckets: c.RestrictPublicBuckets === true,
        });
        world.writes.push(`PutAccountPublicAccessBlock ${input.AccountId}`);
        return {};
      });
  }
}
