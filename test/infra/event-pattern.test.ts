import { matches } from './event-pattern';

/** The test matcher against EventBridge's documented content-filtering behaviour (user guide, "Content filter matching"). */
describe('the test EventBridge matcher', () => {
  const event = {
    source: 'aws.lambda',
    detail: {
      eventName: 'UpdateFunctionCode20150331v2',
      requestParameters: { functionName: 'arn:aws:lambda:eu-west-1:111122223333:function:f:live' },
      alarmNames: ['a', 'b'],
      resources: [{ ARN: 'k1' }, { ARN: 'k2' }],
    },
  };

  it('matches literals exactly and any element of an event array', () => {
    expect(matches({ source: ['aws.lambda'] }, event)).toBe(true);
    expect(matches({ source: ['aws.Lambda'] }, event)).toBe(false);
    expect(matches({ detail: { alarmNames: ['b'] } }, event)).toBe(true);
    expect(matches({ detail: { resources: { ARN: ['k2'] } } }, event)).toBe(true);
    expect(matches({ detail: { resources: { ARN: ['k3'] } } }, event)).toBe(false);
  });

  it('knows prefix, suffix, wildcard and anything-but', () => {
    expect(matches({ detail: { eventName: [{ prefix: 'UpdateFunctionCode' }] } }, event)).toBe(true);
    expect(matches({ detail: { requestParameters: { functionName: [{ suffix: ':function:f' }] } } }, event)).toBe(false);
    expect(matches({ detail: { requestParameters: { functionName: [{ wildcard: '*:function:f:*' }] } } }, event)).toBe(true);
    expect(matches({ detail: { requestParameters: { functionName: [{ wildcard: '*:function:g:*' }] } } }, event)).toBe(false);
    expect(matches({ source: [{ 'anything-but': ['aws.s3'] }] }, event)).toBe(true);
    expect(matches({ source: [{ 'anything-but': { prefix: 'aws.' } }] }, event)).toBe(false);
  });

  it('matches a missing field only with exists: false, and every field of a pattern (AND) or one alternative of $or', () => {
    expect(matches({ detail: { errorCode: [{ exists: false }] } }, event)).toBe(true);
    expect(matches({ detail: { errorCode: [{ exists: true }] } }, event)).toBe(false);
    expect(matches({ detail: { errorCode: ['x'] } }, event)).toBe(false);
    expect(matches({ source: ['aws.lambda'], detail: { eventName: ['DeleteFunction'] } }, event)).toBe(false);
    expect(matches({ detail: { $or: [{ eventName: ['DeleteFunction'] }, { alarmNames: ['a'] }] } }, event)).toBe(true);
    expect(() => matches({ source: [{ cidr: '10.0.0.0/8' }] }, event)).toThrow(/not supported/);
  });
});
