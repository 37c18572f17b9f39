import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Ajv, { type AnySchema } from 'ajv';
import { parse as parseCsv } from '../csv-reader';
import { BUNDLED_POLICY } from '../../cli/io';
import { FIXTURES, jsonLines, runCli } from '../helpers';
import { toAsff } from '../../cli/formats/asff';
import { toCsv } from '../../cli/formats/csv';
import type { FindingLine } from '../../cli/replay';

/**
 * `--format` of replay (scan shares the code): every document validated against the published
 * schema or required-field list stored in test/fixtures/schemas (sources in SOURCES.md).
 */
const schema = (name: string) => JSON.parse(readFileSync(join(FIXTURES, 'schemas', name), 'utf8')) as AnySchema;

function validator(name: string) {
  const ajv = new Ajv({ allErrors: true, strict: false });
  ajv.addFormat('uri', (s: string) => URL.canParse(s));
  ajv.addFormat('uri-reference', (s: string) => !/\s/.test(s) && URL.canParse(s, 'file:///base/'));
  ajv.addFormat('date-time', (s: string) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(s));
  return ajv.compile(schema(name));
}

async function replay(format: string, ...extra: string[]) {
  const result = await runCli(['replay', '--config', BUNDLED_POLICY, '--format', format, ...extra]);
  expect(result.code).toBe(0);
  return result;
}

describe('replay --format', () => {
  let findings: Array<Record<string, unknown>>;
  beforeAll(async () => {
    findings = jsonLines((await runCli(['replay', '--config', BUNDLED_POLICY, '--json'])).stdout).filter((l) => l.type === 'finding');
  });

  it('sarif: a SARIF 2.1.0 log, one result per finding, one rule per control', async () => {
    const doc = JSON.parse((await replay('sarif')).stdout) as {
      version: string;
      runs: Array<{ results: Array<Record<string, unknown>>; tool: { driver: { rules: unknown[] } } }>;
    };
    const validate = validator('sarif-2.1.0-subset.schema.json');

    expect(validate(doc) ? [] : validate.errors).toEqual([]);
    expect(doc.version).toBe('2.1.0');
    expect(doc.runs[0]!.results).toHaveLength(findings.length);
    expect(doc.runs[0]!.results[0]).toMatchObject({
      ruleId: findings[0]!.control,
      partialFingerprints: { 'rampartFindingId/v1': findings[0]!.id },
      locations: [
        {
          physicalLocation: { artifactLocation: { uri: 'examples/rampart.config.yaml' } },
          logicalLocations: [{ fullyQualifiedName: findings[0]!.resourceArn }],
        },
      ],
    });
    // the location is the control's entry in the policy file
    const line = (doc.runs[0]!.results[0]!.locations as Array<{ physicalLocation: { region: { startLine: number } } }>)[0]!.physicalLocation
      .region.startLine;
    expect(readFileSync(BUNDLED_POLICY, 'utf8').split('\n')[line - 1]).toMatch(new RegExp(`^\\s+${String(findings[0]!.control)}:`));
  });

  it('a SARIF result the schema refuses is refused (the check can fail)', () => {
    const validate = validator('sarif-2.1.0-subset.schema.json');
    expect(
      validate({ version: '2.1.0', runs: [{ tool: { driver: { name: 'x' } }, results: [{ level: 'critical', message: { text: 'x' } }] }] }),
    ).toBe(false);
  });

  it('ocsf: Compliance Finding events (class_uid 2003) with every required attribute', async () => {
    const events = JSON.parse((await replay('ocsf')).stdout) as Array<Record<string, unknown>>;
    const validate = validator('ocsf-1.5.0-compliance-finding.schema.json');

    expect(events).toHaveLength(findings.length);
    for (const e of events) expect(validate(e) ? [] : validate.errors).toEqual([]);
    expect(events[0]).toMatchObject({ class_uid: 2003, category_uid: 2, type_uid: 200301, finding_info: { uid: findings[0]!.id } });
    expect(validate({ ...events[0], compliance: {} })).toBe(false);
  });

  it('asff: BatchImportFindings input with every required ASFF attribute, the default product of the account', async () => {
    const doc = JSON.parse((await replay('asff')).stdout) as { Findings: Array<Record<string, unknown>> };
    const validate = validator('asff-required.schema.json');

    expect(validate(doc) ? [] : validate.errors).toEqual([]);
    expect(doc.Findings).toHaveLength(findings.length);
    expect(doc.Findings[0]).toMatchObject({
      ProductArn: `arn:aws:securityhub:${String(findings[0]!.region)}:${String(findings[0]!.account)}:product/${String(findings[0]!.account)}/default`,
      AwsAccountId: findings[0]!.account,
      Resources: [{ Id: findings[0]!.resourceArn }],
      Compliance: { Status: 'FAILED' },
    });
    const { Title: _dropped, ...untitled } = doc.Findings[0]!;
    expect(validate({ Findings: [untitled] })).toBe(false);
  });

  it('csv: a header and one row per finding, quoted per RFC 4180, formulas defused', async () => {
    const rows = parseCsv((await replay('csv')).stdout);

    expect(rows[0]).toEqual([
      'time',
      'severity',
      'control',
      'account',
      'region',
      'resource',
      'violation',
      'observed',
      'desired',
      'actor',
      'change',
      'risk',
    ]);
    expect(rows).toHaveLength(findings.length + 1);
    expect(rows[1]!.slice(1, 3)).toEqual([findings[0]!.severity, findings[0]!.control]);
    expect(rows[1]![6]).toBe(findings[0]!.violation);
  });

  it('markdown: a table row per finding; event text cannot break a cell', async () => {
    const text = (await replay('markdown')).stdout;
    const rows = text.split('\n').filter((l) => l.startsWith('| '));

    expect(rows).toHaveLength(findings.length + 2);
    for (const row of rows) expect(row.split(/(?<!\\)\|/)).toHaveLength(8);
  });

  it('json: the NDJSON of --json, unchanged', async () => {
    const a = (await runCli(['replay', '--config', BUNDLED_POLICY, '--json'])).stdout;
    const b = (await replay('json')).stdout;
    expect(b).toBe(a);
  });

  it('keeps documents clean on stdout: the policy notice and the summary go to stderr', async () => {
    const result = await replay('sarif');
    expect(() => JSON.parse(result.stdout) as unknown).not.toThrow();
    expect(result.stderr).toMatch(/events? from/);
  });

  it('csv: a cell from an event that starts like a formula is defused', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rampart-csv-'));
    const event = JSON.parse(readFileSync(join(FIXTURES, 's3-PutBucketEncryption.aes256-constructed.json'), 'utf8')) as {
      detail: { userIdentity: Record<string, unknown> };
    };
    event.detail.userIdentity = {
      ...event.detail.userIdentity,
      type: 'IAMUser',
      userName: '=HYPERLINK("http://x")',
      arn: 'arn:aws:iam::111122223333:user/=HYPERLINK',
    };
    writeFileSync(join(dir, 'e.json'), JSON.stringify(event));
    const rows = parseCsv((await runCli(['replay', '--config', BUNDLED_POLICY, '--format', 'csv', join(dir, 'e.json')])).stdout);

    expect(rows[1]![9]).toBe(`'=HYPERLINK("http://x")`);
  });
});

describe('a change of several calls in csv and asff', () => {
  // a KMS key scheduled for deletion: CancelKeyDeletion leaves it disabled, so EnableKey follows
  const keyArn = 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
  const line: FindingLine = {
    type: 'finding',
    id: 'f'.repeat(24),
    control: 'kms-key-protection',
    severity: 'high',
    resourceArn: keyArn,
    resourceType: 'AWS::KMS::Key',
    region: 'us-east-1',
    account: '111122223333',
    observed: { keyState: 'PendingDeletion' },
    desired: { keyState: 'Enabled' },
    violation: 'key is scheduled for deletion',
    eventId: 'e1',
    risk: 'low',
    change: {
      service: 'kms',
      operation: 'CancelKeyDeletion',
      region: 'us-east-1',
      input: { KeyId: keyArn },
      followUps: [{ service: 'kms', operation: 'EnableKey', region: 'us-east-1', input: { KeyId: keyArn } }],
    },
  };
  const context = { version: '0.1.0', now: new Date('2026-12-01T00:00:00Z'), policyFile: 'rampart.config.yaml' };

  it('csv: the change cell names every call in order', () => {
    const change = parseCsv(toCsv([line]))[1]![10]!;

    expect(change).toBe(`CancelKeyDeletion {"KeyId":"${keyArn}"}, then EnableKey {"KeyId":"${keyArn}"}`);
  });

  it('asff: the rampart/change product field names every call in order', () => {
    const { document } = toAsff([line], context);

    expect(document.Findings[0]!.ProductFields).toMatchObject({ 'rampart/change': 'CancelKeyDeletion, then EnableKey in us-east-1' });
  });

  it('asff: a change of very many calls stays within the 2,048 characters Security Hub takes a value', () => {
    const step = { service: 'apigateway', operation: 'UpdateMethod', region: 'us-east-1', input: {} };
    const many: FindingLine = { ...line, change: { ...step, followUps: Array.from({ length: 150 }, () => step) } };

    const fields = toAsff([many], context).document.Findings[0]!.ProductFields as Record<string, string>;

    expect(fields['rampart/change']!.length).toBeLessThanOrEqual(2048);
    expect(fields['rampart/change']).toMatch(/^UpdateMethod, then UpdateMethod, /);
  });
});
