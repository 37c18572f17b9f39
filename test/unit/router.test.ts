import { createHash } from 'node:crypto';
import type { AnyDetector } from '../../core/control';
import { extend } from '../../core/extend';
import { findingId } from '../../core/finding';
import { DETECTORS } from '../../controls';
import { EventRouter } from '../../detectors/router';
import { fixtureEvent } from '../helpers';

/** The routing tables are built once; what they answer per event is what the triggers say. */
describe('event router', () => {
  const router = new EventRouter(DETECTORS);

  it('flags the tagging calls of the guarded kinds, and no other call', () => {
    expect(router.isTagging(fixtureEvent('s3-PutBucketTagging-constructed.json'))).toBe(true);
    expect(router.isTagging(fixtureEvent('s3-DeleteBucketEncryption-constructed.json'))).toBe(false);
    expect(router.isTagging(fixtureEvent('ec2-RunInstances-constructed.json'))).toBe(false);
    expect(router.isTagging(fixtureEvent('config-ConfigurationItemChangeNotification.s3-aes256-constructed.json'))).toBe(false);
  });

  it('knows no tagging call when no routed detector guards a kind with tags', () => {
    const s3 = DETECTORS.find((d) => d.id === 's3-default-encryption')!;
    const untagged: AnyDetector = { ...s3, resources: s3.resources!.map((k) => ({ ...k, tagging: undefined })) };

    const withoutTags = new EventRouter([untagged]);

    expect(withoutTags.taggedKinds).toEqual([]);
    expect(withoutTags.isTagging(fixtureEvent('s3-PutBucketTagging-constructed.json'))).toBe(false);
  });

  it('routes a call to a detector once, even when its triggers name the call twice', () => {
    const s3 = DETECTORS.find((d) => d.id === 's3-default-encryption')!;
    const twice: AnyDetector = { ...s3, triggers: { ...s3.triggers, cloudTrail: [...s3.triggers.cloudTrail, ...s3.triggers.cloudTrail] } };

    expect(new EventRouter([twice]).route(fixtureEvent('s3-DeleteBucketEncryption-constructed.json'))).toEqual([twice]);
  });
});

describe('extend', () => {
  it('copies, sets the fields given, keeps the key order and leaves the original alone', () => {
    const ref = { type: 'AWS::S3::Bucket', arn: 'arn:aws:s3:::logs', bucket: 'logs', account: undefined as string | undefined };

    const copy = extend(ref, { account: '111122223333' });

    expect(copy).toEqual({ type: 'AWS::S3::Bucket', arn: 'arn:aws:s3:::logs', bucket: 'logs', account: '111122223333' });
    expect(Object.keys(copy)).toEqual(['type', 'arn', 'bucket', 'account']);
    expect(ref.account).toBeUndefined();
  });
});

describe('finding ids', () => {
  it('are the first 24 hex digits of the SHA-256 of control, account and ARN', () => {
    const expected = createHash('sha256').update('s3-default-encryption\n111122223333\narn:aws:s3:::logs').digest('hex').slice(0, 24);

    expect(findingId('s3-default-encryption', '111122223333', 'arn:aws:s3:::logs')).toBe(expected);
  });
});
