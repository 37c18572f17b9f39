import { DynamoDBDocumentClient, QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers';

describe('rampart --version and --profile', () => {
  it('prints the package version', async () => {
    const { version } = JSON.parse(readFileSync(join(__dirname, '../../package.json'), 'utf8')) as { version: string };
    const result = await runCli(['--version']);

    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toBe(version);
  });

  it('sends every AWS call of the command with the --profile given, before or after the subcommand, and restores the environment', async () => {
    const ddb = mockClient(DynamoDBDocumentClient);
    const seen: Array<string | undefined> = [];
    const record = () => {
      seen.push(process.env.AWS_PROFILE);
      return { Items: [] };
    };
    ddb.on(QueryCommand).callsFake(record);
    ddb.on(ScanCommand).callsFake(record);
    const before = process.env.AWS_PROFILE;

    await runCli(['--profile', 'audit', 'approvals', 'list', '--table', 't']);
    await runCli(['findings', 'list', '--table', 't', '--profile', 'prod-readonly']);
    ddb.restore();

    expect(seen).toEqual(expect.arrayContaining(['audit', 'prod-readonly']));
    expect(process.env.AWS_PROFILE).toBe(before);
  });
});

describe('a policy that enables no control', () => {
  it('is refused by validate-config, and warned about by an offline replay', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'rampart-empty-')), 'rampart.config.yaml');
    writeFileSync(file, 'controls: {}\n');

    const validate = await runCli(['validate-config', file]);
    const replay = await runCli(['replay', '--config', file, join(__dirname, '../../examples/incident')]);

    expect(validate.code).toBe(2);
    expect(replay.code).toBe(0);
    expect(replay.stderr).toContain(`warning: ${file} enables no control: nothing is judged`);
  });
});

describe('validate-config on a terminal', () => {
  it('wraps its line to the terminal width, and keeps it one line on a pipe', async () => {
    const { PassThrough, Readable } = await import('node:stream');
    const { run } = await import('../../cli/main');
    const output = async (tty: boolean) => {
      const stdout = Object.assign(new PassThrough(), tty ? { isTTY: true, columns: 60 } : {});
      const chunks: Buffer[] = [];
      stdout.on('data', (c: Buffer) => chunks.push(c));
      await run(['node', 'rampart', 'validate-config', join(__dirname, '../../examples/rampart.config.yaml')], {
        stdout,
        stderr: new PassThrough(),
        stdin: Readable.from([]),
      });
      return Buffer.concat(chunks).toString().trimEnd().split('\n');
    };

    const terminal = await output(true);
    const piped = await output(false);

    expect(piped).toHaveLength(1);
    expect(terminal.length).toBeGreaterThan(1);
    expect(Math.max(...terminal.map((l) => l.length))).toBeLessThanOrEqual(60);
    expect(terminal.join(' ').replace(/\s+/g, ' ')).toBe(piped[0]);
  });
});
