import { readdirSync } from 'node:fs';
import { MalformedEventError } from '../../core/errors';
import { actorOf, parseEvent } from '../../core/events';
import { FIXTURES, fixture } from '../helpers';

function malformed(raw: unknown): MalformedEventError {
  try {
    parseEvent(raw);
  } catch (error) {
    if (error instanceof MalformedEventError) return error;
    throw error;
  }
  throw new Error('expected a MalformedEventError');
}

describe('parseEvent', () => {
  const eventFixtures = readdirSync(FIXTURES).filter((f) => f.endsWith('.json') && !f.includes('LogFile') && !f.includes('LookupEvents'));

  it.each(eventFixtures)('parses the EventBridge sample %s', (name) => {
    const raw = fixture(name);

    const event = parseEvent(raw);

    expect(event.kind).not.toBe('other');
    expect(event.id.length).toBeGreaterThan(0);
  });

  it('keeps the CloudTrail eventID as the event id, so a log record and its EventBridge copy agree', () => {
    const event = parseEvent(fixture('s3-DeleteBucketEncryption-constructed.json'));

    expect(event).toMatchObject({ kind: 'cloudtrail', id: 'fc17c36b-ab45-53e7-ab04-96294862285a' });
    expect(event.kind === 'cloudtrail' && event.envelope?.id).toBe('c08a97b7-cddb-5084-9d12-f0f0c7e31832');
  });

  it('parses bare CloudTrail records of a log file', () => {
    const log = fixture<{ Records: unknown[] }>('s3-CloudTrailLogFile.docs-example-real.json');

    const events = log.Records.map(parseEvent);

    expect(events.map((e) => e.kind === 'cloudtrail' && e.record.eventName)).toEqual([
      'ListBuckets',
      'PutBucketAcl',
      'GetBucketVersioning',
    ]);
  });

  it('reads a Config item, an oversized Config notification and a deletion', () => {
    const item = parseEvent(fixture('config-ConfigurationItemChangeNotification.stage-no-acl-constructed.json'));
    const oversized = parseEvent(fixture('config-OversizedConfigurationItemChangeNotification.s3-adapted.json'));
    const deleted = parseEvent(fixture('config-ConfigurationItemChangeNotification.s3-deleted-constructed.json'));

    expect(item).toMatchObject({
      kind: 'config-item',
      resource: {
        resourceType: 'AWS::ApiGateway::Stage',
        arn: 'arn:aws:apigateway:us-east-1::/restapis/k2l3m4n5o6/stages/beta',
        status: 'OK',
      },
    });
    expect(oversized).toMatchObject({
      kind: 'config-oversized',
      resource: { resourceType: 'AWS::S3::Bucket', resourceId: 'rampart-demo-archive', region: 'us-east-1' },
    });
    expect(deleted).toMatchObject({ kind: 'config-item', resource: { status: 'ResourceDeleted' } });
  });

  it('reads a Config rule compliance change', () => {
    const event = parseEvent(fixture('config-ComplianceChange.s3-noncompliant-constructed.json'));

    expect(event).toMatchObject({
      kind: 'config-compliance',
      ruleName: 's3-bucket-server-side-encryption-enabled',
      complianceType: 'NON_COMPLIANT',
      resource: { resourceType: 'AWS::S3::Bucket', resourceId: 'rampart-demo-uploads' },
    });
  });

  it('takes the actor from userIdentity, with the role behind an assumed-role session', () => {
    const event = parseEvent(fixture('wafv2-DisassociateWebACL.rest-stage-adapted.json'));

    expect(event.kind === 'cloudtrail' && actorOf(event.record)).toEqual({
      type: 'AssumedRole',
      arn: 'arn:aws:sts::111122223333:assumed-role/DevAdministrator/example_user',
      principalId: 'AROACKCEVSQ6C2EXAMPLE:example_user',
      accountId: '111122223333',
      sessionIssuerArn: 'arn:aws:iam::111122223333:role/DevAdministrator',
    });
  });

  it('names the bad field of an event of the wrong shape', () => {
    const raw = fixture('s3-DeleteBucketEncryption-constructed.json');
    (raw.detail as Record<string, unknown>).eventName = 42;

    const error = malformed(raw);

    expect(error.field).toBe('detail.eventName');
    expect(error.message).toMatch(/^CloudTrail event: detail\.eventName: /);
  });

  it('rejects an envelope without resources, a non-object and an unrelated object', () => {
    const raw = fixture('s3-DeleteBucketEncryption-constructed.json');
    delete raw.resources;

    expect(malformed(raw).field).toBe('resources');
    expect(malformed([1, 2]).message).toBe('expected an event object, got an array');
    expect(malformed({ hello: 'world' }).message).toMatch(/not an EventBridge event/);
  });

  it('passes an EventBridge event of another detail-type as "other"', () => {
    const raw = { ...fixture('s3-DeleteBucketEncryption-constructed.json'), 'detail-type': 'EC2 Instance State-change Notification' };

    expect(parseEvent(raw).kind).toBe('other');
  });
});
