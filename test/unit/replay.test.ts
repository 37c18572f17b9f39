import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { parseEvent } from '../../core/events';
import { CONTROL_IDS, DETECTORS } from '../../controls';
import { judgeEvent } from '../../detectors/judge';
import { EventRouter } from '../../detectors/router';
import { ARTIFACTS_KEY, FIXTURES, LEGACY_ACL, RAMPART_GUARD_ACL, fixture, jsonLines, policy, runCli } from '../helpers';

const router = new EventRouter(DETECTORS);

/** Every verdict of the example policy on one fixture, as `outcome control resource`. */
function verdicts(raw: unknown, p = policy()): { matched: boolean; lines: string[] } {
  const verdict = judgeEvent(parseEvent(raw), p, router);
  return { matched: verdict.matched, lines: verdict.judgements.map((j) => `${j.outcome} ${j.control} ${j.ref.arn}`) };
}

const STAGE = (api: string, stage: string) => `arn:aws:apigateway:us-east-1::/restapis/${api}/stages/${stage}`;

describe('every shared fixture, judged against the example policy', () => {
  it.each<[string, string[]]>([
    ['s3-PutBucketEncryption.aes256-constructed.json', ['violation s3-default-encryption arn:aws:s3:::rampart-demo-uploads']],
    // the bucket names a key ARN, the policy an alias: only KMS can tell whether they agree
    ['s3-PutBucketEncryption.kms-bucketkey-constructed.json', ['unknown s3-default-encryption arn:aws:s3:::rampart-demo-artifacts']],
    ['s3-PutBucketEncryption.rule-list-constructed.json', ['violation s3-default-encryption arn:aws:s3:::rampart-demo-reports']],
    ['s3-DeleteBucketEncryption-constructed.json', ['violation s3-default-encryption arn:aws:s3:::rampart-demo-logs']],
    ['s3-CreateBucket.eu-west-1-constructed.json', ['violation s3-default-encryption arn:aws:s3:::rampart-demo-eu-media']],
    [
      'config-ConfigurationItemChangeNotification.s3-aes256-constructed.json',
      ['violation s3-default-encryption arn:aws:s3:::rampart-demo-uploads'],
    ],
    [
      'config-ConfigurationItemChangeNotification.s3-deleted-constructed.json',
      ['gone s3-default-encryption arn:aws:s3:::rampart-demo-tmp'],
    ],
    [
      'config-OversizedConfigurationItemChangeNotification.s3-adapted.json',
      ['unknown s3-default-encryption arn:aws:s3:::rampart-demo-archive'],
    ],
    ['wafv2-AssociateWebACL.other-acl-adapted.json', [`violation apigateway-waf ${STAGE('a1b2c3d4e5', 'prod')}`]],
    ['wafv2-DisassociateWebACL.rest-stage-adapted.json', [`violation apigateway-waf ${STAGE('f6g7h8i9j0', 'v1')}`]],
    [
      'apigateway-CreateStage.rest-constructed.json',
      [`violation apigateway-waf ${STAGE('k2l3m4n5o6', 'beta')}`, `violation apigateway-throttling ${STAGE('k2l3m4n5o6', 'beta')}`],
    ],
    [
      'apigateway-CreateDeployment.with-stage-constructed.json',
      [`unknown apigateway-waf ${STAGE('a1b2c3d4e5', 'staging')}`, `unknown apigateway-throttling ${STAGE('a1b2c3d4e5', 'staging')}`],
    ],
    ['apigateway-UpdateStage.throttle-over-constructed.json', [`violation apigateway-throttling ${STAGE('a1b2c3d4e5', 'prod')}`]],
    ['apigateway-UpdateStage.unrelated-paths-constructed.json', [`unknown apigateway-throttling ${STAGE('f6g7h8i9j0', 'v1')}`]],
    [
      'apigateway-UpdateUsagePlan.throttle-over-constructed.json',
      ['violation apigateway-throttling arn:aws:apigateway:us-east-1::/usageplans/u1p2l3'],
    ],
    [
      'apigateway-CreateUsagePlan.within-limits-constructed.json',
      ['compliant apigateway-throttling arn:aws:apigateway:us-east-1::/usageplans/c4d5e6'],
    ],
    [
      'config-ConfigurationItemChangeNotification.stage-compliant-constructed.json',
      [`compliant apigateway-waf ${STAGE('a1b2c3d4e5', 'prod')}`, `compliant apigateway-throttling ${STAGE('a1b2c3d4e5', 'prod')}`],
    ],
    [
      'config-ConfigurationItemChangeNotification.stage-no-acl-constructed.json',
      [`violation apigateway-waf ${STAGE('k2l3m4n5o6', 'beta')}`, `violation apigateway-throttling ${STAGE('k2l3m4n5o6', 'beta')}`],
    ],
  ])('%s', (name, expected) => {
    const { matched, lines } = verdicts(fixture(name));

    expect(matched).toBe(true);
    expect(lines).toEqual(expected);
  });

  it.each([
    'apigateway-UpdateStage.failed-constructed.json', // errorCode: the call changed nothing
    'apigateway-UpdateStage.httpapi-adapted.json', // HTTP API: no WAF, v2 throttling not covered yet
    'apigateway-GetResource-wrapped.json',
    'ec2-RunInstances-constructed.json',
    's3-GetObject.data-event-adapted.json',
    's3-PutBucketTagging-constructed.json',
    'wafv2-GetWebACL-wrapped.json',
  ])('%s concerns no control', (name) => {
    expect(verdicts(fixture(name))).toEqual({ matched: false, lines: [] });
  });

  it('finds nothing in the real S3 documentation log file', () => {
    const log = fixture<{ Records: unknown[] }>('s3-CloudTrailLogFile.docs-example-real.json');

    expect(log.Records.map((r) => verdicts(r).matched)).toEqual([false, false, false]);
  });

  it('reports the observed and desired values, the event and the actor in a finding', () => {
    const verdict = judgeEvent(parseEvent(fixture('wafv2-AssociateWebACL.other-acl-adapted.json')), policy(), router);

    expect(verdict.judgements[0]).toMatchObject({
      outcome: 'violation',
      finding: {
        control: 'apigateway-waf',
        severity: 'high',
        resourceArn: STAGE('a1b2c3d4e5', 'prod'),
        observed: { webAclArn: LEGACY_ACL },
        desired: { webAclArn: RAMPART_GUARD_ACL },
        eventId: 'a5f0dc8b-3c83-5e35-bf7e-6af3f47d9fd8',
        eventName: 'AssociateWebACL',
        eventTime: '2024-06-03T14:21:09Z',
        actor: { sessionIssuerArn: 'arn:aws:iam::111122223333:role/DevAdministrator' },
      },
    });
  });

  it('judges the KMS key when the policy names it the way the bucket does', () => {
    const byArn = policy({
      controls: { 's3-default-encryption': { algorithm: 'aws:kms', kmsKeyId: ARTIFACTS_KEY, bucketKeyEnabled: true } },
    });

    expect(verdicts(fixture('s3-PutBucketEncryption.kms-bucketkey-constructed.json'), byArn).lines).toEqual([
      'compliant s3-default-encryption arn:aws:s3:::rampart-demo-artifacts',
    ]);
  });

  it('skips controls the policy does not enable', () => {
    const wafOnly = policy({ controls: { 'apigateway-waf': { defaultWebAclArn: RAMPART_GUARD_ACL } } });

    expect(verdicts(fixture('apigateway-UpdateStage.throttle-over-constructed.json'), wafOnly)).toEqual({ matched: false, lines: [] });
  });

  it('exempts by ARN pattern, and by tag when the event carries tags', () => {
    const raw = fixture('config-ConfigurationItemChangeNotification.s3-aes256-constructed.json');
    (raw.detail as { configurationItem: { tags: Record<string, string> } }).configurationItem.tags = { 'rampart:exempt': 'true' };
    const exempting = policy({
      controls: { 's3-default-encryption': { algorithm: 'aws:kms' } },
      exemptions: { tags: { 'rampart:exempt': 'true' }, arns: ['arn:aws:s3:::rampart-demo-l*'] },
    });

    expect(verdicts(raw, exempting).lines).toEqual(['exempt s3-default-encryption arn:aws:s3:::rampart-demo-uploads']);
    expect(verdicts(fixture('s3-DeleteBucketEncryption-constructed.json'), exempting).lines).toEqual([
      'exempt s3-default-encryption arn:aws:s3:::rampart-demo-logs',
    ]);
  });

  it('says unknown for a NON_COMPLIANT Config rule result and ignores a COMPLIANT one', () => {
    const compliance = (complianceType: string) => {
      const raw = fixture<{ detail: { newEvaluationResult: { complianceType: string } } }>(
        'config-ComplianceChange.s3-noncompliant-constructed.json',
      );
      raw.detail.newEvaluationResult.complianceType = complianceType;
      return raw;
    };

    expect(verdicts(compliance('NON_COMPLIANT')).lines).toEqual(['unknown s3-default-encryption arn:aws:s3:::rampart-demo-uploads']);
    expect(verdicts(compliance('COMPLIANT')).matched).toBe(false);
  });
});

describe('rampart replay', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'rampart-replay-'));
  const ndjson = (...names: string[]) => names.map((n) => JSON.stringify(fixture(n))).join('\n') + '\n';

  it('gives the same findings for CloudTrail log records as for their EventBridge copies', async () => {
    const records = [
      's3-DeleteBucketEncryption-constructed.json',
      'wafv2-DisassociateWebACL.rest-stage-adapted.json',
      'apigateway-UpdateStage.throttle-over-constructed.json',
    ];
    const events = join(tmp, 'events.ndjson');
    const log = join(tmp, 'log.json');
    writeFileSync(events, ndjson(...records));
    writeFileSync(log, JSON.stringify({ Records: records.map((n) => fixture<{ detail: unknown }>(n).detail) }));

    const a = jsonLines((await runCli(['replay', '--json', events])).stdout).filter((l) => l.type === 'finding');
    const b = jsonLines((await runCli(['replay', '--json', log])).stdout).filter((l) => l.type === 'finding');

    expect(a).toHaveLength(3);
    expect(b).toEqual(a);
  });

  it('replays the shared CloudTrail log file: one finding, one compliant, one event of no concern', async () => {
    const result = await runCli(['replay', '--json', join(FIXTURES, 'cloudtrail-LogFile.mixed-constructed.json')]);
    const lines = jsonLines(result.stdout);

    expect(result.code).toBe(0);
    expect(lines).toEqual([
      expect.objectContaining({
        type: 'finding',
        control: 's3-default-encryption',
        resourceArn: 'arn:aws:s3:::rampart-demo-artifacts',
        eventId: '035cf01b-f08f-507a-ae33-15d9838c11c0',
      }),
      { type: 'summary', events: 3, matched: 2, findings: 1, unknown: 0, errors: 0, compliant: 1, exempt: 0, files: 1 },
    ]);
  });

  it('prints the stable --json shape: finding, unknown, error lines, then one summary', async () => {
    const file = join(tmp, 'mixed.ndjson');
    writeFileSync(
      file,
      ndjson('apigateway-UpdateStage.throttle-over-constructed.json', 'apigateway-UpdateStage.unrelated-paths-constructed.json') +
        '{"oops": \n',
    );

    // one control, so that controls added later (judging the same stages) leave the lines as they are
    const result = await runCli(['replay', '--json', '--control', 'apigateway-throttling', file]);
    const lines = jsonLines(result.stdout);

    expect(result.code).toBe(1);
    expect(lines.map((l) => l.type)).toEqual(['finding', 'unknown', 'error', 'summary']);
    expect(lines[0]).toMatchObject({
      control: 'apigateway-throttling',
      resourceArn: STAGE('a1b2c3d4e5', 'prod'),
      eventId: 'c1ea5406-6290-54a5-be7a-4ac39dfcf02a',
      observed: { rateLimit: 2000, burstLimit: 1000 },
      desired: { rateLimit: 1000, burstLimit: 500 },
    });
    expect(lines[1]).toEqual({
      type: 'unknown',
      control: 'apigateway-throttling',
      resourceArn: STAGE('f6g7h8i9j0', 'v1'),
      eventId: 'fde2f0dc-7eb9-54f8-9978-de0c6303d5da',
      reason: 'UpdateStage patches /*/*/logging/loglevel, /tracingEnabled; the throttling is not in the event',
    });
    expect(lines[2]).toMatchObject({ type: 'error', file, position: 'line 3' });
    expect(lines[3]).toEqual({
      type: 'summary',
      events: 3,
      matched: 2,
      findings: 1,
      unknown: 1,
      errors: 1,
      compliant: 0,
      exempt: 0,
      files: 1,
    });
  });

  it('reports a malformed event with file and position and goes on with the rest', async () => {
    const good = JSON.stringify(fixture('s3-DeleteBucketEncryption-constructed.json'));
    const wrongShape = JSON.stringify({ ...fixture('s3-DeleteBucketEncryption-constructed.json'), resources: 'none' });
    const file = join(tmp, 'bad.ndjson');
    writeFileSync(file, ['not json at all', wrongShape, good, ''].join('\n'));

    const result = await runCli(['replay', file]);

    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`error: ${file} line 1: invalid JSON:`);
    expect(result.stderr).toContain(`error: ${file} line 2: EventBridge event: resources: `);
    expect(result.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(result.stdout).toContain('arn:aws:s3:::rampart-demo-logs');
    expect(result.stdout.replace(/\s+/g, ' ')).toContain(
      '3 events from 1 input: 1 matched a control, 1 finding, 0 unknown, 0 compliant, 0 exempt, 2 errors',
    );
  });

  it('reads gzipped CloudTrail logs, directories and stdin', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rampart-dir-'));
    writeFileSync(
      join(dir, '111122223333_CloudTrail_us-east-1_20240521T0705Z_x.json.gz'),
      gzipSync(readFileSync(join(FIXTURES, 'cloudtrail-LogFile.mixed-constructed.json'))),
    );
    writeFileSync(join(dir, 'notes.txt'), 'not an event file');

    const fromDir = jsonLines((await runCli(['replay', '--json', dir])).stdout);
    const fromStdin = jsonLines(
      (await runCli(['replay', '--json', '-'], ndjson('wafv2-DisassociateWebACL.rest-stage-adapted.json'))).stdout,
    );

    expect(fromDir.at(-1)).toMatchObject({ events: 3, findings: 1, files: 1 });
    expect(fromStdin.at(-1)).toMatchObject({ events: 1, findings: 1 });
  });

  it('says which path does not exist and still replays the others', async () => {
    const result = await runCli([
      'replay',
      '--json',
      join(tmp, 'missing.json'),
      join(FIXTURES, 's3-DeleteBucketEncryption-constructed.json'),
    ]);
    const lines = jsonLines(result.stdout);

    expect(result.code).toBe(1);
    expect(lines[0]).toEqual({ type: 'error', file: join(tmp, 'missing.json'), position: 'file', message: 'no such file or directory' });
    expect(lines.at(-1)).toMatchObject({ events: 1, findings: 1, errors: 1 });
  });

  it('replays the bundled incident by default, as a table with a summary', async () => {
    const result = await runCli(['replay']);

    expect(result.code).toBe(0);
    // one block per resource: its ARN, then each finding with its severity
    expect(result.stdout).toMatch(/^arn:aws:\S+ \(AWS::/);
    expect(result.stdout).toMatch(/^ {2}(HIGH|MEDIUM|LOW) +[a-z0-9-]+: /m);
    expect(result.stdout).toContain('arn:aws:apigateway:us-east-1::/usageplans/u1p2l3');
    expect(result.stdout.replace(/\s+/g, ' ')).toMatch(/\d+ events from 2 inputs: \d+ matched a control, \d+ findings/);
  });

  it('fails with the bad field path for a bad policy and replays nothing', async () => {
    const bad = join(tmp, 'bad-policy.yaml');
    writeFileSync(bad, 'controls:\n  apigateway-throttling: { rateLimit: lots, burstLimit: 5 }\n');

    const result = await runCli(['replay', '--config', bad, '--json']);

    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('controls.apigateway-throttling.rateLimit: Invalid input: expected number, received string (line 2)');
  });

  it('judges only the controls asked for with --control', async () => {
    const result = await runCli([
      'replay',
      '--json',
      '--control',
      'apigateway-waf',
      join(FIXTURES, 'apigateway-CreateStage.rest-constructed.json'),
    ]);

    expect(
      jsonLines(result.stdout)
        .filter((l) => l.type === 'finding')
        .map((l) => l.control),
    ).toEqual(['apigateway-waf']);
  });

  it('replays a log of many thousand events in input order', async () => {
    const base = [
      's3-DeleteBucketEncryption-constructed.json',
      'apigateway-UpdateStage.unrelated-paths-constructed.json',
      's3-GetObject.data-event-adapted.json',
    ].map((n) => fixture<{ detail: Record<string, unknown> }>(n).detail);
    const records = Array.from({ length: 6000 }, (_, i) => ({ ...base[i % 3], eventID: `evt-${i}` }));
    const file = join(tmp, 'big.json.gz');
    writeFileSync(file, gzipSync(JSON.stringify({ Records: records })));

    const lines = jsonLines((await runCli(['replay', '--json', '--control', 's3-default-encryption,apigateway-throttling', file])).stdout);

    expect(lines.at(-1)).toEqual({
      type: 'summary',
      events: 6000,
      matched: 4000,
      findings: 2000,
      unknown: 2000,
      errors: 0,
      compliant: 0,
      exempt: 0,
      files: 1,
    });
    expect(lines[0]).toMatchObject({ type: 'finding', eventId: 'evt-0' });
    expect(lines[1]).toMatchObject({ type: 'unknown', eventId: 'evt-1' });
  });
});

describe('rampart validate-config', () => {
  it('accepts the bundled example policy', async () => {
    const result = await runCli(['validate-config', join(__dirname, '../../examples/rampart.config.yaml')]);

    expect(result.code).toBe(0);
    // the example enables every registered control
    expect(result.stdout).toContain(`valid (mode enforce; controls: ${CONTROL_IDS.join(', ')})`);
  });

  it('lists the bad fields of a bad policy and exits 2', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'rampart-validate-')), 'p.json');
    writeFileSync(file, JSON.stringify({ mode: 'yolo', approvals: { timeoutHours: -1 } }));

    const result = await runCli(['validate-config', file]);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('- mode: ');
    expect(result.stderr).toContain('- approvals.timeoutHours: ');
  });
});

describe('rampart usage errors', () => {
  it('refuses an unknown control id with the list of known ones', async () => {
    const result = await runCli(['replay', '--control', 's3-encryption']);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('unknown control s3-encryption; known: s3-default-encryption, apigateway-waf, apigateway-throttling');
  });
});

describe('replay of other real shapes', () => {
  it('reads a Config item whose configuration values are JSON strings (API form)', () => {
    const raw = fixture<{ detail: { configurationItem: { supplementaryConfiguration: Record<string, unknown>; configuration: unknown } } }>(
      'config-ConfigurationItemChangeNotification.s3-aes256-constructed.json',
    );
    const item = raw.detail.configurationItem;
    item.supplementaryConfiguration.ServerSideEncryptionConfiguration = JSON.stringify(
      item.supplementaryConfiguration.ServerSideEncryptionConfiguration,
    );
    item.configuration = JSON.stringify(item.configuration);

    expect(verdicts(raw).lines).toEqual(['violation s3-default-encryption arn:aws:s3:::rampart-demo-uploads']);
  });

  it('skips CloudTrail digest files found beside the logs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rampart-digest-'));
    writeFileSync(
      join(dir, '111122223333_CloudTrail-Digest_us-east-1_trail_us-east-1_20240521T080000Z.json'),
      JSON.stringify({
        awsAccountId: '111122223333',
        digestStartTime: '2024-05-21T07:00:00Z',
        digestEndTime: '2024-05-21T08:00:00Z',
        logFiles: [],
      }),
    );
    writeFileSync(join(dir, 'log.json'), readFileSync(join(FIXTURES, 'cloudtrail-LogFile.mixed-constructed.json')));

    const result = await runCli(['replay', '--json', dir]);

    expect(result.code).toBe(0);
    expect(jsonLines(result.stdout).at(-1)).toMatchObject({ events: 3, errors: 0, findings: 1 });
  });
});
