import { DescribeTrailsCommand, GetTrailStatusCommand } from '@aws-sdk/client-cloudtrail';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { rampartVersion } from '../../core/version';
import { doctorExit, trailCheck, versionCheck, type Check } from '../../cli/doctor';
import { FakeCloudFormation } from '../fakes/cloudformation';
import { FakeCloudTrail } from '../fakes/cloudtrail';
import { FakeConfigService } from '../fakes/config-service';
import { FakeSts } from '../fakes/sts';
import { FakeWorld } from '../fakes/world';
import { jsonLines, runCli } from '../helpers';

/**
 * `rampart doctor` against stateful fakes of STS, CloudTrail, Config and CloudFormation: one
 * line per check, ok/warn/fail with what to do, exit 2 without region or credentials, 1 when a
 * check fails, `--json` lines.
 */
const REGION = 'us-east-1';
const TRAIL = 'arn:aws:cloudtrail:us-east-1:111122223333:trail/management';

let world: FakeWorld;
let sts: FakeSts;
let cloudTrail: FakeCloudTrail;
let config: FakeConfigService;
let cfn: FakeCloudFormation;

beforeEach(() => {
  world = new FakeWorld();
  sts = new FakeSts(world);
  cloudTrail = new FakeCloudTrail(world);
  config = new FakeConfigService(world);
  cfn = new FakeCloudFormation();
});
afterEach(() => {
  for (const fake of [sts, cloudTrail, config, cfn]) fake.mock.restore();
});

/** An account ready for Rampart: a logging multi-region trail, a recording recorder, the stack of this version. */
function healthy(): void {
  cloudTrail.trails.set(TRAIL, {
    isLogging: true,
    isMultiRegionTrail: true,
    logFileValidationEnabled: true,
    includeGlobalServiceEvents: true,
  });
  const r = config.region(REGION);
  r.recorder = { name: 'default', roleARN: 'arn:aws:iam::111122223333:role/config' };
  r.recording = true;
  cfn.stack(REGION, 'Rampart', {
    status: 'UPDATE_COMPLETE',
    outputs: { GuardTableNameFD860DF2: 'Rampart-GuardTable-1A2B', GuardVersion9A8B7C6D: rampartVersion() },
  });
}

const doctor = (...args: string[]) => runCli(['doctor', '--region', REGION, ...args]);
const statusOf = (lines: Array<Record<string, unknown>>) =>
  Object.fromEntries(lines.filter((l) => l.type === 'check').map((l) => [l.check, l.status]));

describe('rampart doctor', () => {
  it('says ok for every check of a ready account, one line each, and exits 0', async () => {
    healthy();

    const result = await doctor();

    expect(result.code).toBe(0);
    const lines = result.stdout.split('\n').filter((l) => /^(ok|warn|FAIL|skip) /.test(l));
    expect(lines.map((l) => l.split(/\s+/)[1])).toEqual(['region', 'credentials', 'trail', 'config-recorder', 'stack', 'version']);
    expect(lines.every((l) => l.startsWith('ok'))).toBe(true);
    expect(result.stdout).toContain('account 111122223333');
    expect(result.stdout).toContain('management logs us-east-1 (multi-region)');
    expect(result.stdout).toContain(`deployed ${rampartVersion()}, CLI ${rampartVersion()}`);
    expect(sts.mock.commandCalls(GetCallerIdentityCommand)).toHaveLength(1);
    expect(cloudTrail.mock.commandCalls(GetTrailStatusCommand)[0]!.args[0].input).toEqual({ Name: TRAIL });
  });

  it('fails a stopped trail with the command that starts it, warns a stopped recorder and an older stack; exit 1', async () => {
    healthy();
    cloudTrail.trails.get(TRAIL)!.isLogging = false;
    config.region(REGION).recording = false;
    cfn.stack(REGION, 'Rampart', { status: 'UPDATE_COMPLETE', outputs: { GuardTableNameFD860DF2: 't', GuardVersion9A8B7C6D: '0.0.9' } });

    const result = await doctor('--json');

    expect(result.code).toBe(1);
    const lines = jsonLines(result.stdout);
    expect(statusOf(lines)).toEqual({
      region: 'ok',
      credentials: 'ok',
      trail: 'fail',
      'config-recorder': 'warn',
      stack: 'ok',
      version: 'warn',
    });
    const trail = lines.find((l) => l.check === 'trail')!;
    expect(trail.fix).toBe(`aws cloudtrail start-logging --name ${TRAIL}`);
    expect(lines.find((l) => l.check === 'config-recorder')!.fix).toContain(
      'start-configuration-recorder --configuration-recorder-name default',
    );
    expect(lines.at(-1)).toEqual({ type: 'summary', ok: 3, warn: 2, fail: 1, skip: 0, version: rampartVersion() });
  });

  it('sees another region’s multi-region trail (a shadow trail) and ignores a single-region trail elsewhere', async () => {
    healthy();
    cloudTrail.trails.clear();
    cloudTrail.trails.set('arn:aws:cloudtrail:eu-west-1:111122223333:trail/only-eu', {
      isLogging: true,
      isMultiRegionTrail: false,
      logFileValidationEnabled: true,
      includeGlobalServiceEvents: true,
    });

    const single = statusOf(jsonLines((await doctor('--json')).stdout));
    cloudTrail.trails.set('arn:aws:cloudtrail:eu-west-1:111122223333:trail/org', {
      isLogging: true,
      isMultiRegionTrail: true,
      logFileValidationEnabled: true,
      includeGlobalServiceEvents: true,
    });
    const shadow = await doctor('--json');

    expect(single.trail).toBe('fail');
    expect(statusOf(jsonLines(shadow.stdout)).trail).toBe('ok');
    expect(cloudTrail.mock.commandCalls(DescribeTrailsCommand).at(-1)!.args[0].input).toEqual({ includeShadowTrails: true });
  });

  it('warns when the guard is not deployed (no such stack) and skips the version', async () => {
    healthy();
    cfn.stacks.clear();

    const result = await doctor('--json', '--stack', 'GuardProd');
    const lines = jsonLines(result.stdout);

    expect(result.code).toBe(0);
    expect(lines.find((l) => l.check === 'stack')).toMatchObject({
      status: 'warn',
      message: expect.stringContaining('no stack GuardProd in us-east-1'),
    });
    expect(lines.find((l) => l.check === 'version')!.status).toBe('skip');
  });

  it('fails a stack in a failed state, and one that is not a guard (no TableName output)', async () => {
    healthy();
    cfn.stack(REGION, 'Rampart', { status: 'ROLLBACK_COMPLETE', outputs: {} });
    cfn.stack(REGION, 'Other', { status: 'CREATE_COMPLETE', outputs: { BucketName: 'b' } });

    const failed = jsonLines((await doctor('--json')).stdout).find((l) => l.check === 'stack')!;
    const other = await doctor('--json', '--stack', 'Other');

    expect(failed).toMatchObject({ status: 'fail', message: 'Rampart is ROLLBACK_COMPLETE' });
    expect(other.code).toBe(1);
    expect(jsonLines(other.stdout).find((l) => l.check === 'stack')!.message).toContain('no TableName output');
  });

  it('without credentials: one sentence, the account checks skipped, exit 2', async () => {
    sts.mock
      .on(GetCallerIdentityCommand)
      .rejects(Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' }));

    const result = await doctor();

    expect(result.code).toBe(2);
    expect(result.stdout).toMatch(/FAIL credentials +no AWS credentials found: configure the usual chain/);
    expect(result.stdout.match(/^skip /gm)).toHaveLength(4);
    expect(cloudTrail.mock.commandCalls(DescribeTrailsCommand)).toHaveLength(0);
    expect(result.stdout).not.toMatch(/\n\s+at /);
  });

  it('without a region: says how to set one and exits 2, calling nothing', async () => {
    const before = {
      AWS_REGION: process.env.AWS_REGION,
      AWS_DEFAULT_REGION: process.env.AWS_DEFAULT_REGION,
      AWS_CONFIG_FILE: process.env.AWS_CONFIG_FILE,
    };
    delete process.env.AWS_REGION;
    delete process.env.AWS_DEFAULT_REGION;
    process.env.AWS_CONFIG_FILE = '/nonexistent/rampart-test-config';
    try {
      const result = await runCli(['doctor', '--json']);

      expect(result.code).toBe(2);
      expect(jsonLines(result.stdout)[0]).toMatchObject({ check: 'region', status: 'fail', fix: expect.stringContaining('--region') });
      expect(sts.mock.commandCalls(GetCallerIdentityCommand)).toHaveLength(0);
    } finally {
      for (const [k, v] of Object.entries(before))
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
    }
  });

  it('warns (does not fail) on a read it is not allowed to make, naming the permission', async () => {
    healthy();
    config.mock
      .on((await import('@aws-sdk/client-config-service')).DescribeConfigurationRecorderStatusCommand)
      .rejects(Object.assign(new Error('User is not authorized'), { name: 'AccessDeniedException' }));

    const lines = jsonLines((await doctor('--json')).stdout);

    expect(lines.find((l) => l.check === 'config-recorder')).toMatchObject({
      status: 'warn',
      fix: 'grant config:DescribeConfigurationRecorderStatus to these credentials',
    });
  });

  it('fits its lines to the terminal width', async () => {
    healthy();
    cloudTrail.trails.get(TRAIL)!.isLogging = false;
    const before = process.env.COLUMNS;
    for (const columns of ['80', '160']) {
      process.env.COLUMNS = columns;
      const result = await doctor();
      for (const line of result.stdout.split('\n')) expect(line.length).toBeLessThanOrEqual(Number(columns));
    }
    if (before === undefined) delete process.env.COLUMNS;
    else process.env.COLUMNS = before;
  });
});

describe('doctor judgements', () => {
  it('reads an organization trail whose status it may not read as a warning, not a failure', () => {
    const check = trailCheck(
      {
        value: [
          {
            arn: 'arn:aws:cloudtrail:us-east-1:999988887777:trail/org',
            name: 'org',
            homeRegion: 'us-east-1',
            multiRegion: true,
            organization: true,
            logging: { error: Object.assign(new Error('Trail not found'), { name: 'TrailNotFoundException' }) },
          },
        ],
      },
      'us-east-1',
    );

    expect(check.status).toBe('warn');
    expect(check.fix).toContain('management account');
  });

  it('compares the deployed version with the CLI’s, and says when the stack records none', () => {
    const stack = (outputs: Record<string, string>) => ({ name: 'Rampart', status: 'CREATE_COMPLETE', outputs, tags: {} });

    expect(versionCheck(stack({ Version: '0.1.0' }), '0.1.0').status).toBe('ok');
    expect(versionCheck(stack({ GuardVersion9A8B7C6D: '0.0.9' }), '0.1.0')).toMatchObject({
      status: 'warn',
      message: expect.stringContaining('deployed 0.0.9, CLI 0.1.0'),
    });
    expect(versionCheck(stack({}), '0.1.0').message).toContain('records no version');
  });

  it('exits 2 when AWS cannot be reached, 1 on another failure, 0 with warnings only', () => {
    const c = (check: Check['check'], status: Check['status']): Check => ({ check, status, message: '' });

    expect(doctorExit([c('region', 'ok'), c('credentials', 'fail'), c('trail', 'skip')])).toBe(2);
    expect(doctorExit([c('region', 'ok'), c('credentials', 'ok'), c('trail', 'fail')])).toBe(1);
    expect(doctorExit([c('region', 'ok'), c('stack', 'warn')])).toBe(0);
  });
});
