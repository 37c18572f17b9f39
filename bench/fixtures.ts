import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const FIXTURES = join(__dirname, '../test/fixtures');

/** A realistic mix for the benchmarks: real samples, relevant and not, as EventBridge events. */
export const MIX = [
  's3-DeleteBucketEncryption-constructed.json',
  's3-PutBucketEncryption.kms-bucketkey-constructed.json',
  's3-GetObject.data-event-adapted.json',
  's3-PutBucketTagging-constructed.json',
  'wafv2-DisassociateWebACL.rest-stage-adapted.json',
  'wafv2-AssociateWebACL.other-acl-adapted.json',
  'apigateway-UpdateStage.throttle-over-constructed.json',
  'apigateway-UpdateStage.unrelated-paths-constructed.json',
  'apigateway-GetResource-wrapped.json',
  'ec2-RunInstances-constructed.json',
  'config-ConfigurationItemChangeNotification.stage-no-acl-constructed.json',
  'config-ConfigurationItemChangeNotification.s3-aes256-constructed.json',
];

export function mixEvents(): Array<Record<string, unknown>> {
  return MIX.map((name) => JSON.parse(readFileSync(join(FIXTURES, name), 'utf8')) as Record<string, unknown>);
}

/** Bare CloudTrail records (log-file form) of the mix's CloudTrail events. */
export function mixRecords(): Array<Record<string, unknown>> {
  return mixEvents()
    .filter((e) => e['detail-type'] === 'AWS API Call via CloudTrail')
    .map((e) => e.detail as Record<string, unknown>);
}
