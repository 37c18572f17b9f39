import { readdirSync } from 'node:fs';
import { DETECTORS } from '../../controls';
import { parseEvent } from '../../core/events';
import { RawRouter } from '../../detectors/raw-route';
import { EventRouter } from '../../detectors/router';
import { FIXTURES, fixture, jsonLines, runCli } from '../helpers';

const router = new EventRouter(DETECTORS);
const raw = new RawRouter(DETECTORS);

/** Every event fixture, and the bare CloudTrail record of each CloudTrail one (log-file form). */
function samples(): Array<[string, Record<string, unknown>]> {
  const out: Array<[string, Record<string, unknown>]> = [];
  for (const name of readdirSync(FIXTURES).filter((n) => n.endsWith('.json'))) {
    const value = fixture(name);
    if (!('detail-type' in value)) continue;
    out.push([name, value]);
    if (value['detail-type'] === 'AWS API Call via CloudTrail') out.push([`${name} (record)`, value.detail as Record<string, unknown>]);
  }
  return out;
}

describe('RawRouter: routing on the raw JSON, before validation', () => {
  it.each(samples())('agrees with the EventRouter on %s', (_name, value) => {
    expect(raw.mayRoute(value)).toBe(router.route(parseEvent(value)).length > 0);
  });

  it('says "may" whenever a routing field is missing or of the wrong type, so validation names it', () => {
    const base = fixture<{ detail: Record<string, unknown> }>('ec2-RunInstances-constructed.json').detail;
    expect(raw.mayRoute(base)).toBe(false);
    for (const bad of [
      { ...base, eventSource: undefined },
      { ...base, eventName: 42 },
      { ...base, eventSource: '' },
      { ...base, errorCode: 403 },
      { 'detail-type': 'AWS API Call via CloudTrail', detail: 'none' },
      { 'detail-type': 7 },
      { 'detail-type': '' },
      { 'detail-type': 'Config Configuration Item Change', detail: { messageType: 'Nope' } },
      42,
      null,
      [base],
    ])
      expect(raw.mayRoute(bad)).toBe(true);
  });

  it('excludes failed calls (errorCode), as the EventBridge patterns do', () => {
    const record = fixture<{ detail: Record<string, unknown> }>('s3-DeleteBucketEncryption-constructed.json').detail;
    expect(raw.mayRoute(record)).toBe(true);
    expect(raw.mayRoute({ ...record, errorCode: 'AccessDenied' })).toBe(false);
    expect(raw.mayRoute({ ...record, errorCode: null })).toBe(true);
  });
});

describe('rampart replay validates only the events a control reads', () => {
  it('counts a malformed event no control reads without an error; reports one a control reads', async () => {
    const unread = { eventSource: 'ec2.amazonaws.com', eventName: 'RunInstances' }; // no eventTime, eventID, awsRegion
    const read = { eventSource: 's3.amazonaws.com', eventName: 'DeleteBucketEncryption' };
    const text = [JSON.stringify({ Records: [unread, read] })].join('\n');

    const result = await runCli(['replay', '--json', '-'], text);
    const lines = jsonLines(result.stdout);

    expect(lines.filter((l) => l.type === 'error')).toEqual([
      { type: 'error', file: '-', position: 'Records[1]', message: expect.stringMatching(/^CloudTrail record: eventTime: /) },
    ]);
    expect(lines.at(-1)).toMatchObject({ type: 'summary', events: 2, matched: 0, errors: 1 });
  });
});
