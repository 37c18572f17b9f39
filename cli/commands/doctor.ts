import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { CloudTrailClient, DescribeTrailsCommand, GetTrailStatusCommand } from '@aws-sdk/client-cloudtrail';
import { ConfigServiceClient, DescribeConfigurationRecorderStatusCommand } from '@aws-sdk/client-config-service';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { forTerminal } from '../../core/neutralise';
import { rampartVersion } from '../../core/version';
import { resolveRegion } from '../aws-access';
import {
  credentialsCheck,
  doctorExit,
  recorderCheck,
  regionCheck,
  skipped,
  stackCheck,
  trailCheck,
  versionCheck,
  type CallerIdentity,
  type Check,
  type Read,
  type RecorderSeen,
  type TrailSeen,
} from '../doctor';
import { styleFor, wrap } from '../findings-table';
import { DEFAULT_STACK } from '../guard-table';
import { write, type CliIo } from '../io';
import { describeStack, type DeployedStack } from '../stack-outputs';

/**
 * `rampart doctor`: is this machine and account ready for Rampart? One line per check (the
 * judgements are cli/doctor.ts); the readers below each make the calls of one check, with the
 * clients given, and never throw (a failed read is what the check reports).
 */
export interface DoctorOptions {
  region?: string;
  endpoint?: string;
  stack?: string;
  json?: boolean;
}

type ClientConfig = { region: string; endpoint?: string };

async function read<T>(reader: () => Promise<T>): Promise<Read<T>> {
  try {
    return { value: await reader() };
  } catch (error) {
    return { error };
  }
}

export async function readIdentity(sts: STSClient): Promise<CallerIdentity> {
  const out = await sts.send(new GetCallerIdentityCommand({}));
  return { account: out.Account, arn: out.Arn };
}

/** The trails this region sees (its own and other regions' multi-region trails, as shadow trails), each with its status. */
export async function readTrails(cloudTrail: CloudTrailClient): Promise<TrailSeen[]> {
  const out = await cloudTrail.send(new DescribeTrailsCommand({ includeShadowTrails: true }));
  const trails: TrailSeen[] = [];
  for (const t of out.trailList ?? []) {
    const arn = t.TrailARN ?? t.Name ?? '';
    // a shadow trail's status is read by its ARN (CloudTrail API Reference, GetTrailStatus)
    const logging = await read(async () => Boolean((await cloudTrail.send(new GetTrailStatusCommand({ Name: arn }))).IsLogging));
    trails.push({
      arn,
      name: t.Name ?? arn,
      homeRegion: t.HomeRegion ?? '',
      multiRegion: Boolean(t.IsMultiRegionTrail),
      organization: Boolean(t.IsOrganizationTrail),
      logging,
    });
  }
  return trails;
}

export async function readRecorders(config: ConfigServiceClient): Promise<RecorderSeen[]> {
  const out = await config.send(new DescribeConfigurationRecorderStatusCommand({}));
  return (out.ConfigurationRecordersStatus ?? []).map((s) => ({
    name: s.name ?? 'default',
    recording: Boolean(s.recording),
    lastStatus: s.lastStatus,
    lastErrorCode: s.lastErrorCode,
    lastErrorMessage: s.lastErrorMessage,
  }));
}

/** Every check, in order; the AWS checks are skipped without a region, the account's without credentials. */
export async function doctorChecks(options: DoctorOptions, env: NodeJS.ProcessEnv = process.env): Promise<Check[]> {
  const region = await resolveRegion(options.region, env);
  const checks: Check[] = [regionCheck(region)];
  if (!region) return [...checks, ...skipped(['credentials', 'trail', 'config-recorder', 'stack', 'version'], 'region')];
  const config: ClientConfig = { region, ...(options.endpoint ? { endpoint: options.endpoint } : {}) };
  const identity = credentialsCheck(await read(() => readIdentity(new STSClient(config))));
  checks.push(identity);
  if (identity.status === 'fail') return [...checks, ...skipped(['trail', 'config-recorder', 'stack', 'version'], 'credentials')];
  const [trails, recorders, stack] = await Promise.all([
    read(() => readTrails(new CloudTrailClient(config))),
    read(() => readRecorders(new ConfigServiceClient(config))),
    read(() => describeStack(stackName(options, env), config, new CloudFormationClient(config))),
  ]);
  checks.push(trailCheck(trails, region), recorderCheck(recorders, region), stackCheck(stack, stackName(options, env), region));
  const deployed: DeployedStack | undefined = 'value' in stack ? stack.value : undefined;
  checks.push(deployed ? versionCheck(deployed, rampartVersion()) : skipped(['version'], 'stack')[0]!);
  return checks;
}

const stackName = (options: DoctorOptions, env: NodeJS.ProcessEnv) => options.stack ?? env.RAMPART_STACK ?? DEFAULT_STACK;

const LABEL_WIDTH = 4;
const LABEL: Record<Check['status'], string> = { ok: 'ok  ', warn: 'warn', fail: 'FAIL', skip: 'skip' };
const SGR: Record<Check['status'], string> = { ok: '32', warn: '33', fail: '31;1', skip: '2' };

export async function doctorCommand(options: DoctorOptions, io: CliIo): Promise<number> {
  const checks = await doctorChecks(options);
  if (options.json) {
    for (const c of checks) await write(io.stdout, JSON.stringify({ type: 'check', ...c }));
    const count = (s: Check['status']) => checks.filter((c) => c.status === s).length;
    await write(
      io.stdout,
      JSON.stringify({
        type: 'summary',
        ok: count('ok'),
        warn: count('warn'),
        fail: count('fail'),
        skip: count('skip'),
        version: rampartVersion(),
      }),
    );
    return doctorExit(checks);
  }
  const { width, color } = styleFor(io.stdout);
  const nameWidth = Math.max(...checks.map((c) => c.check.length));
  const indent = LABEL_WIDTH + 1 + nameWidth + 2;
  for (const c of checks) {
    const label = color ? `\u001b[${SGR[c.status]}m${LABEL[c.status]}\u001b[0m` : LABEL[c.status];
    // messages carry names and error text from AWS: neutralised before the colour is added
    const text = wrap(forTerminal(c.message), width, indent).map((l, i) =>
      i === 0 ? `${label} ${c.check.padEnd(nameWidth)}  ${l.slice(indent)}` : l,
    );
    // the fix on a line of its own, indented less: a command to copy stays whole at 80 columns
    const fix = c.fix ? wrap(forTerminal(`→ ${c.fix}`), width, LABEL_WIDTH + 3, LABEL_WIDTH + 1) : [];
    io.stdout.write(`${[...text, ...fix].join('\n')}\n`);
  }
  const failed = checks.filter((c) => c.status === 'fail').length;
  const warned = checks.filter((c) => c.status === 'warn').length;
  await write(io.stdout, `\n${failed} failed, ${warned} ${warned === 1 ? 'warning' : 'warnings'} (rampart ${rampartVersion()})`);
  return doctorExit(checks);
}
