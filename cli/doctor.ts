import { messageOf } from '../core/errors';
import { accessProblem } from './aws-access';
import type { DeployedStack } from './stack-outputs';
import { outputNamed } from './stack-outputs';

/**
 * `rampart doctor`'s judgements, pure: each takes what its reader found (or the error it got)
 * and says ok, warn or fail with what to do. The readers are in commands/doctor.ts.
 */

export const DOCTOR_CHECKS = ['region', 'credentials', 'trail', 'config-recorder', 'stack', 'version'] as const;
export type DoctorCheckName = (typeof DOCTOR_CHECKS)[number];
/** `skip`: not run, because a check it needs failed (no region or credentials: no AWS call can be made). */
export const CHECK_STATUSES = ['ok', 'warn', 'fail', 'skip'] as const;
export type CheckStatus = (typeof CHECK_STATUSES)[number];

export interface Check {
  check: DoctorCheckName;
  status: CheckStatus;
  /** What was found. */
  message: string;
  /** What to do about it (warn and fail). */
  fix?: string;
}

/** A read's result: what it returned, or why it could not. */
export type Read<T> = { value: T } | { error: unknown };

const DENIED = new Set(['AccessDenied', 'AccessDeniedException', 'UnauthorizedOperation', 'AuthorizationError']);

/** A refused or failed read: a missing permission is a warning (the guard may still work), anything else fails. */
function unreadable(check: DoctorCheckName, error: unknown, permission: string): Check {
  const name = (error as { name?: string } | undefined)?.name ?? '';
  if (DENIED.has(name))
    return { check, status: 'warn', message: `not allowed to read (${name})`, fix: `grant ${permission} to these credentials` };
  const problem = accessProblem(error);
  return {
    check,
    status: 'fail',
    message: problem ?? `cannot read: ${messageOf(error)}`,
    fix: problem ? undefined : 'run again; check the network and the endpoint',
  };
}

export function regionCheck(region: string | undefined): Check {
  return region
    ? { check: 'region', status: 'ok', message: region }
    : {
        check: 'region',
        status: 'fail',
        message: 'no AWS region',
        fix: 'pass --region, set AWS_REGION, or set a region in the AWS profile',
      };
}

export interface CallerIdentity {
  account?: string;
  arn?: string;
}

export function credentialsCheck(read: Read<CallerIdentity>): Check {
  if ('error' in read) {
    const problem = accessProblem(read.error);
    return {
      check: 'credentials',
      status: 'fail',
      message: problem ?? `STS GetCallerIdentity failed: ${messageOf(read.error)}`,
      fix: problem ? undefined : 'check the credentials and the network (--profile, AWS_PROFILE, aws sso login)',
    };
  }
  return { check: 'credentials', status: 'ok', message: `account ${read.value.account ?? '?'} as ${read.value.arn ?? '?'}` };
}

/** A trail as DescribeTrails lists it, with its GetTrailStatus. */
export interface TrailSeen {
  arn: string;
  name: string;
  homeRegion: string;
  multiRegion: boolean;
  organization: boolean;
  /** GetTrailStatus IsLogging; the error when the status could not be read (an organization trail from a member account). */
  logging: Read<boolean>;
}

/**
 * EventBridge gets "AWS API Call via CloudTrail" events only where a trail logs (AWS: "a
 * CloudTrail trail with logging enabled is required"): without one the guard sees no change.
 */
export function trailCheck(read: Read<TrailSeen[]>, region: string): Check {
  if ('error' in read) return unreadable('trail', read.error, 'cloudtrail:DescribeTrails and cloudtrail:GetTrailStatus');
  const covering = read.value.filter((t) => t.multiRegion || t.homeRegion === region);
  const logging = covering.filter((t) => 'value' in t.logging && t.logging.value);
  if (logging.length > 0) {
    const t = logging.find((l) => l.multiRegion) ?? logging[0]!;
    const kind = [t.organization ? 'organization' : '', t.multiRegion ? 'multi-region' : 'single-region'].filter(Boolean).join(', ');
    const others = logging.length > 1 ? ` (${logging.length} logging trails in all)` : '';
    return { check: 'trail', status: 'ok', message: `${t.name} logs ${region} (${kind})${others}` };
  }
  const unknown = covering.filter((t) => 'error' in t.logging);
  if (unknown.length > 0)
    return {
      check: 'trail',
      status: 'warn',
      message: `the status of ${unknown.map((t) => t.name).join(', ')} cannot be read from here (${messageOf((unknown[0]!.logging as { error: unknown }).error)})`,
      fix: 'an organization trail is checked from the management account: aws cloudtrail get-trail-status --name <trail ARN>',
    };
  const stopped = covering.map((t) => t.name);
  return {
    check: 'trail',
    status: 'fail',
    message:
      stopped.length > 0
        ? `no trail logs ${region}: ${stopped.join(', ')} ${stopped.length === 1 ? 'is' : 'are'} stopped; EventBridge gets no API call events`
        : `no trail covers ${region}: EventBridge gets no API call events, so the guard sees no change`,
    fix:
      stopped.length > 0
        ? `aws cloudtrail start-logging --name ${covering[0]!.arn}`
        : 'create a multi-region trail (npx cdk deploy -c trail=true, or aws cloudtrail create-trail --is-multi-region-trail …)',
  };
}

/** A Config recorder's status (DescribeConfigurationRecorderStatus). */
export interface RecorderSeen {
  name: string;
  recording: boolean;
  lastStatus?: string;
  lastErrorCode?: string;
  lastErrorMessage?: string;
}

/** Config change notifications are the guard's second trigger (and what config-recording guards): missing, a warning. */
export function recorderCheck(read: Read<RecorderSeen[]>, region: string): Check {
  if ('error' in read) return unreadable('config-recorder', read.error, 'config:DescribeConfigurationRecorderStatus');
  const recorders = read.value;
  if (recorders.length === 0)
    return {
      check: 'config-recorder',
      status: 'warn',
      message: `no AWS Config recorder in ${region}: the guard gets no configuration change notifications`,
      fix: 'set up AWS Config to record S3 buckets and API Gateway stages (console: AWS Config → Get started)',
    };
  const failing = recorders.find((r) => r.recording && r.lastStatus?.toUpperCase() === 'FAILURE');
  if (failing)
    return {
      check: 'config-recorder',
      status: 'warn',
      message:
        `${failing.name} records but its last delivery failed (${failing.lastErrorCode ?? '?'}: ${failing.lastErrorMessage ?? ''})`.trim(),
      fix: 'check the delivery channel (bucket policy, KMS key): aws configservice describe-delivery-channel-status',
    };
  const recording = recorders.find((r) => r.recording);
  if (recording) return { check: 'config-recorder', status: 'ok', message: `${recording.name} is recording in ${region}` };
  return {
    check: 'config-recorder',
    status: 'warn',
    message: `${recorders[0]!.name} is stopped: the guard gets no configuration change notifications`,
    fix: `aws configservice start-configuration-recorder --configuration-recorder-name ${recorders[0]!.name}`,
  };
}

/** Stack states in which the stack's resources are deployed and working. */
const HEALTHY = /^(CREATE_COMPLETE|UPDATE_COMPLETE|UPDATE_ROLLBACK_COMPLETE|IMPORT_COMPLETE|IMPORT_ROLLBACK_COMPLETE)$/;
const BUSY = /_IN_PROGRESS$/;

export function stackCheck(read: Read<DeployedStack | undefined>, name: string, region: string): Check {
  if ('error' in read) return unreadable('stack', read.error, 'cloudformation:DescribeStacks on the stack');
  const stack = read.value;
  if (!stack)
    return {
      check: 'stack',
      status: 'warn',
      message: `no stack ${name} in ${region}: the guard is not deployed here (replay and scan work without it)`,
      fix: `npx cdk deploy (or pass --stack <name>, RAMPART_STACK)`,
    };
  const table = outputNamed(stack.outputs, 'TableName');
  if (BUSY.test(stack.status))
    return {
      check: 'stack',
      status: 'warn',
      message: `${stack.name} is ${stack.status}`,
      fix: 'wait for the deployment to finish, then run again',
    };
  if (!HEALTHY.test(stack.status))
    return {
      check: 'stack',
      status: 'fail',
      message: `${stack.name} is ${stack.status}`,
      fix: `see why: aws cloudformation describe-stack-events --stack-name ${stack.name}; then npx cdk deploy`,
    };
  if (!table)
    return {
      check: 'stack',
      status: 'fail',
      message: `${stack.name} (${stack.status}) has no TableName output: not a Rampart guard stack`,
      fix: 'pass --stack with the name of the guard stack',
    };
  return { check: 'stack', status: 'ok', message: `${stack.name} ${stack.status}, table ${table}` };
}

/** The deployed guard's version (its `Version` output) against this CLI's. */
export function versionCheck(stack: DeployedStack | undefined, cliVersion: string): Check {
  const deployed = stack && outputNamed(stack.outputs, 'Version');
  if (!deployed)
    return {
      check: 'version',
      status: 'warn',
      message: `the deployed stack records no version (deployed before Rampart ${cliVersion}?); this CLI is ${cliVersion}`,
      fix: 'npx cdk deploy from this checkout',
    };
  if (deployed === cliVersion) return { check: 'version', status: 'ok', message: `deployed ${deployed}, CLI ${cliVersion}` };
  return {
    check: 'version',
    status: 'warn',
    message: `deployed ${deployed}, CLI ${cliVersion}: the guard and the CLI may judge differently`,
    fix: `npx cdk deploy from the checkout of the version you want (or use the CLI of ${deployed})`,
  };
}

/** The checks not run because `because` failed. */
export function skipped(names: readonly DoctorCheckName[], because: DoctorCheckName): Check[] {
  return names.map((check) => ({ check, status: 'skip', message: `not checked: needs ${because}` }));
}

/** The exit code: 2 when AWS cannot be reached at all (region, credentials: as every command), 1 when another check fails. */
export function doctorExit(checks: readonly Check[]): number {
  const failed = checks.filter((c) => c.status === 'fail');
  if (failed.some((c) => c.check === 'region' || c.check === 'credentials')) return 2;
  return failed.length > 0 ? 1 : 0;
}
