import {
  CancelKeyDeletionCommand,
  DescribeKeyCommand,
  EnableKeyCommand,
  EnableKeyRotationCommand,
  GetKeyPolicyCommand,
  GetKeyRotationStatusCommand,
  KMSClient,
  KMSInvalidStateException,
  ListKeysCommand,
  ListResourceTagsCommand,
  NotFoundException,
  PutKeyPolicyCommand,
  UnsupportedOperationException,
  type KeyMetadata,
} from '@aws-sdk/client-kms';
import { mockClient } from 'aws-sdk-client-mock';
import type { FakeWorld } from './world';

/** A KMS key as KMS keeps it; its ARN (the key of `keys`) names its region and account. */
export interface FakeKey {
  keyManager: 'AWS' | 'CUSTOMER';
  keyState: 'Enabled' | 'Disabled' | 'PendingDeletion';
  keySpec?: string;
  origin?: string;
  rotationEnabled?: boolean;
  rotationPeriodInDays?: number;
  policy?: string;
  tags?: Record<string, string>;
}

/** The default key policy KMS gives a key created without one (account root, kms:*). */
export function defaultKeyPolicy(account: string): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Id: 'key-default-1',
    Statement: [
      {
        Sid: 'Enable IAM User Permissions',
        Effect: 'Allow',
        Principal: { AWS: `arn:aws:iam::${account}:root` },
        Action: 'kms:*',
        Resource: '*',
      },
    ],
  });
}

const invalidState = (arn: string, state: string) => new KMSInvalidStateException({ message: `${arn} is ${state}`, $metadata: {} });

/**
 * KMS aliases (alias name or ARN → key ARN) and keys, behind a mocked KMSClient. Like KMS: a
 * cancelled deletion leaves the key `Disabled`, a key pending deletion can be neither enabled
 * nor rotated (`KMSInvalidStateException`), only symmetric keys of KMS key material rotate
 * (`UnsupportedOperationException`), AWS managed keys refuse every change, and EnableKeyRotation
 * sets the period it is given (365 days when none). A key ARN that is neither a key nor an alias
 * here describes as itself (the S3 control only resolves aliases).
 */
export class FakeKms {
  readonly aliases = new Map<string, string>();
  readonly keys = new Map<string, FakeKey>();
  readonly mock = mockClient(KMSClient);

  constructor(world?: FakeWorld) {
    const isKeyArn = (id: string) => id.startsWith('arn:aws:kms') && id.includes(':key/');
    const arnOf = (id: string) =>
      isKeyArn(id) ? id : (this.aliases.get(id) ?? [...this.keys.keys()].find((arn) => arn.endsWith(`:key/${id}`)));
    const keyOf = (id: string): [string, FakeKey] => {
      const arn = arnOf(id);
      const key = arn && this.keys.get(arn);
      if (!arn || !key) throw new NotFoundException({ message: `Key '${id}' does not exist`, $metadata: {} });
      return [arn, key];
    };
    const write = (id: string, what: string): [string, FakeKey] => {
      const [arn, key] = keyOf(id);
      if (key.keyManager === 'AWS') throw new UnsupportedOperationException({ message: `${arn} is an AWS managed key`, $metadata: {} });
      world?.writes.push(`${what} ${arn}`);
      return [arn, key];
    };
    const rotates = (key: FakeKey) =>
      (key.keySpec ?? 'SYMMETRIC_DEFAULT') === 'SYMMETRIC_DEFAULT' && (key.origin ?? 'AWS_KMS') === 'AWS_KMS';

    this.mock.on(DescribeKeyCommand).callsFake((input: { KeyId: string }) => {
      const arn = arnOf(input.KeyId);
      if (!arn) throw new NotFoundException({ message: `fake KMS: unknown key ${input.KeyId}`, $metadata: {} });
      const key = this.keys.get(arn);
      const metadata: KeyMetadata = { KeyId: arn.split('/')[1], Arn: arn };
      if (key) {
        Object.assign(metadata, {
          AWSAccountId: arn.split(':')[4],
          KeyManager: key.keyManager,
          KeyState: key.keyState,
          Enabled: key.keyState === 'Enabled',
          KeySpec: key.keySpec ?? 'SYMMETRIC_DEFAULT',
          KeyUsage: 'ENCRYPT_DECRYPT',
          Origin: key.origin ?? 'AWS_KMS',
          MultiRegion: false,
        });
      }
      return { KeyMetadata: metadata };
    });
    this.mock.on(ListKeysCommand).callsFake(async (input: { Marker?: string }, getClient) => {
      const region = await getClient().config.region();
      const arns = [...this.keys.keys()].filter((arn) => arn.split(':')[3] === region).sort();
      const { items, next } = (world ?? { page: (all: string[]) => ({ items: all, next: undefined }) }).page(arns, input.Marker);
      return {
        Keys: items.map((KeyArn) => ({ KeyArn, KeyId: KeyArn.split('/')[1] })),
        Truncated: next !== undefined,
        ...(next ? { NextMarker: next } : {}),
      };
    });
    this.mock.on(GetKeyRotationStatusCommand).callsFake((input: { KeyId: string }) => {
      const [arn, key] = keyOf(input.KeyId);
      if (key.keyState === 'PendingDeletion') throw invalidState(arn, 'pending deletion');
      if (!rotates(key)) throw new UnsupportedOperationException({ message: `${arn} does not support automatic rotation`, $metadata: {} });
      return {
        KeyId: arn,
        KeyRotationEnabled: key.rotationEnabled === true,
        ...(key.rotationEnabled ? { RotationPeriodInDays: key.rotationPeriodInDays ?? 365 } : {}),
      };
    });
    this.mock.on(GetKeyPolicyCommand).callsFake((input: { KeyId: string }) => {
      const [arn, key] = keyOf(input.KeyId);
      return { PolicyName: 'default', Policy: key.policy ?? defaultKeyPolicy(arn.split(':')[4]!) };
    });
    this.mock.on(ListResourceTagsCommand).callsFake((input: { KeyId: string }) => ({
      Tags: Object.entries(keyOf(input.KeyId)[1].tags ?? {}).map(([TagKey, TagValue]) => ({ TagKey, TagValue })),
      Truncated: false,
    }));
    this.mock.on(CancelKeyDeletionCommand).callsFake((input: { KeyId: string }) => {
      const [arn, key] = write(input.KeyId, 'CancelKeyDeletion');
      if (key.keyState !== 'PendingDeletion') throw invalidState(arn, key.keyState);
      // "the key state of the KMS key is Disabled" after a cancelled deletion (CancelKeyDeletion, KMS API Reference)
      key.keyState = 'Disabled';
      return { KeyId: arn };
    });
    this.mock.on(EnableKeyCommand).callsFake((input: { KeyId: string }) => {
      const [arn, key] = write(input.KeyId, 'EnableKey');
      if (key.keyState === 'PendingDeletion') throw invalidState(arn, 'pending deletion');
      key.keyState = 'Enabled';
      return {};
    });
    this.mock.on(EnableKeyRotationCommand).callsFake((input: { KeyId: string; RotationPeriodInDays?: number }) => {
      const [arn, key] = write(input.KeyId, 'EnableKeyRotation');
      if (key.keyState === 'PendingDeletion') throw invalidState(arn, 'pending deletion');
      if (!rotates(key)) throw new UnsupportedOperationException({ message: `${arn} does not support automatic rotation`, $metadata: {} });
      key.rotationEnabled = true;
      key.rotationPeriodInDays = input.RotationPeriodInDays ?? 365;
      return {};
    });
    this.mock.on(PutKeyPolicyCommand).callsFake((input: { KeyId: string; Policy: string }) => {
      const [, key] = write(input.KeyId, 'PutKeyPolicy');
      key.policy = input.Policy;
      return {};
    });
  }
}
