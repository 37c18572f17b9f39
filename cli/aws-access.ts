import { RampartError, messageOf } from '../core/errors';
import { EXIT, write, type CliIo } from './io';

/**
 * Reaching AWS from the CLI: a missing credential or region is one sentence and exit 2 in every
 * command, never the SDK's own text ("Region is missing", "Could not load credentials from any
 * providers") behind a "cannot list findings:".
 */

export const NO_CREDENTIALS =
  'no AWS credentials found: configure the usual chain (--profile, AWS_PROFILE, environment variables, SSO) or point --endpoint at an emulator';
export const NO_REGION = 'no AWS region: pass --region, set AWS_REGION, or set a region in the AWS profile';

/** Credentials or region missing or refused: the run cannot reach AWS at all. */
export class AwsAccessError extends RampartError {}

// the SDK names: @smithy/property-provider CredentialsProviderError; STS/IAM refusals of the keys themselves
const REFUSED_CREDENTIALS = new Set(['ExpiredToken', 'ExpiredTokenException', 'InvalidClientTokenId', 'UnrecognizedClientException']);

/** The sentence for an error that means AWS cannot be reached with these credentials/region; `undefined` for any other error. */
export function accessProblem(error: unknown): string | undefined {
  if (error instanceof AwsAccessError) return error.message;
  const name = (error as { name?: string } | undefined)?.name ?? '';
  const message = messageOf(error);
  if (name === 'CredentialsProviderError' || /Could not load credentials from any providers/.test(message)) return NO_CREDENTIALS;
  if (/Region is missing/.test(message)) return NO_REGION;
  if (REFUSED_CREDENTIALS.has(name))
    return `the AWS credentials were refused (${name}): refresh them (aws sso login, or new keys) and run again`;
  return undefined;
}

/**
 * Reports an error of a command that calls AWS and returns its exit code: 2 with one sentence
 * when AWS cannot be reached (credentials, region), else `cannot <what>: <message>` and 1.
 */
export function reportAwsFailure(io: CliIo, what: string, error: unknown): number {
  const problem = accessProblem(error);
  if (problem) {
    write(io.stderr, problem);
    return EXIT.usage;
  }
  write(io.stderr, `cannot ${what}: ${messageOf(error)}`);
  return EXIT.notCompliant;
}

/**
 * The region calls go to: `--region`, else what the SDK reads (AWS_REGION, AWS_DEFAULT_REGION
 * is not the SDK's, the profile's `region`); `undefined` when none is set anywhere.
 */
export async function resolveRegion(explicit: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  if (explicit) return explicit;
  if (env.AWS_REGION) return env.AWS_REGION;
  if (env.AWS_DEFAULT_REGION) return env.AWS_DEFAULT_REGION;
  try {
    // the SDK's own region chain (environment, shared config of the profile), without a call
    const { STSClient } = await import('@aws-sdk/client-sts');
    return await new STSClient({}).config.region();
  } catch {
    return undefined;
  }
}

/**
 * The region of a command that calls AWS: as {@link resolveRegion}, us-east-1 for an emulator
 * endpoint; throws {@link AwsAccessError} when none is set anywhere.
 */
export async function requireRegion(options: { region?: string; endpoint?: string }): Promise<string> {
  const region = (await resolveRegion(options.region)) ?? (options.endpoint ? 'us-east-1' : undefined);
  if (!region) throw new AwsAccessError(NO_REGION);
  return region;
}
