import { DynamoDBDocumentClient, QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { readFileSync } from 'node:fs';
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
