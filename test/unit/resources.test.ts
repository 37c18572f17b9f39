import { findingId } from '../../core/finding';
import { refFromArn } from '../../core/resources';
import { restApiStage, stageRef, usagePlan, usagePlanRef } from '../../detectors/apigateway-resources';
import { bucketRef, s3Bucket } from '../../detectors/s3-resources';

const KINDS = [s3Bucket, restApiStage, usagePlan];

describe('resource kinds', () => {
  it('writes bucket ARNs without region or account, which travel beside', () => {
    expect(bucketRef('logs', 'eu-west-1', '111122223333')).toEqual({
      type: 'AWS::S3::Bucket',
      arn: 'arn:aws:s3:::logs',
      bucket: 'logs',
      region: 'eu-west-1',
      account: '111122223333',
    });
  });

  it('writes bucket ARNs in the partition of the bucket region', () => {
    expect(bucketRef('logs', 'cn-north-1').arn).toBe('arn:aws-cn:s3:::logs');
    expect(bucketRef('logs', 'us-gov-west-1').arn).toBe('arn:aws-us-gov:s3:::logs');
  });

  it('writes REST stage and usage plan ARNs with an empty account field', () => {
    expect(stageRef('us-east-1', 'a1b2c3', 'prod').arn).toBe('arn:aws:apigateway:us-east-1::/restapis/a1b2c3/stages/prod');
    expect(usagePlanRef('eu-west-1', 'abc123').arn).toBe('arn:aws:apigateway:eu-west-1::/usageplans/abc123');
  });

  it('reads each ARN back as its own kind, with the ids and the region of the ARN', () => {
    expect(refFromArn('arn:aws:apigateway:eu-west-1::/restapis/a1b2c3/stages/prod', KINDS, '111122223333')).toEqual(
      stageRef('eu-west-1', 'a1b2c3', 'prod', '111122223333'),
    );
    expect(refFromArn('arn:aws:apigateway:eu-west-1::/usageplans/abc123', KINDS)).toMatchObject({
      type: 'AWS::ApiGateway::UsagePlan',
      usagePlanId: 'abc123',
      region: 'eu-west-1',
    });
    expect(refFromArn('arn:aws:s3:::logs', KINDS)).toMatchObject({ type: 'AWS::S3::Bucket', bucket: 'logs' });
  });

  it('refuses ARNs of other kinds: objects, HTTP APIs, load balancers, garbage', () => {
    for (const arn of [
      'arn:aws:s3:::logs/2024/01/object.json',
      'arn:aws:apigateway:us-east-1::/apis/a1b2c3/stages/prod',
      'arn:aws:elasticloadbalancing:us-east-1:111122223333:loadbalancer/app/web/50dc6c495c0c9188',
      'arn:aws:apigateway:::/restapis/a1b2c3/stages/prod',
      'not an arn',
    ]) {
      expect({ arn, ref: refFromArn(arn, KINDS) }).toEqual({ arn, ref: undefined });
    }
  });

  it('narrows a reference to its kind and names it as a human would', () => {
    const stage = stageRef('us-east-1', 'a1b2c3', 'prod');

    expect(restApiStage.is(stage)).toBe(true);
    expect(usagePlan.is(stage)).toBe(false);
    expect(restApiStage.nameOf(stage)).toBe('a1b2c3/prod');
    expect(s3Bucket.nameOf(bucketRef('logs'))).toBe('logs');
  });
});

describe('finding ids', () => {
  it('differ by account for the same control and resource, and are fit for an execution name', () => {
    const own = findingId('s3-default-encryption', '111122223333', 'arn:aws:s3:::logs');
    const other = findingId('s3-default-encryption', '444455556666', 'arn:aws:s3:::logs');

    expect(own).not.toBe(other);
    expect(own).toMatch(/^[0-9a-f]{24}$/);
    expect(findingId('s3-default-encryption', '111122223333', 'arn:aws:s3:::logs')).toBe(own);
  });
});
