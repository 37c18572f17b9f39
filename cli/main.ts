import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import type { AwsClients } from '../core/aws';
import { messageOf } from '../core/errors';
import { guardTableOptions } from './guard-table';
import { outputOptions } from './options';
import { rampartVersion } from './version';
import { forTerminal } from '../core/neutralise';
import { BUNDLED_INCIDENT, BUNDLED_POLICY, EXIT, loadPolicy, loadPolicySchema, policyFile, write, type CliIo } from './io';

export { EXIT, type CliIo } from './io';

// each command's module is loaded when it runs: a command loads only the SDK clients it uses,
// and `--help` none (a client's package takes tens of milliseconds to load)
const commands = {
  approvals: () => import('./commands/approvals'),
  findings: () => import('./commands/findings'),
  scan: () => import('./commands/scan'),
  remediate: () => import('./commands/remediate'),
  replay: () => import('./commands/replay'),
  init: () => import('./commands/init'),
  doctor: () => import('./commands/doctor'),
};

// The SDK warns on every run under Node.js 20 that its releases from 2027 need Node.js 22: the
// CLI supports Node.js 20 (package.json engines) and the notice says nothing about this run.
// A user who sets the variable keeps their choice.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/** The bundled example policy and incident (commands resolve their policy with `policyFile`, cli/io.ts). */
export const DEFAULT_POLICY = BUNDLED_POLICY;
export const DEFAULT_INCIDENT = BUNDLED_INCIDENT;
const CONFIG_HELP = 'policy file, YAML or JSON (default: RAMPART_CONFIG, then ./rampart.config.yaml)';

/** A repeatable option of ids, also comma-separated (`--account 111122223333,444455556666`). */
function collectIds(value: string, previous: string[] | undefined): string[] {
  return [
    ...(previous ?? []),
    ...value
      .split(',')
      .map((v) => v.trim())
      .filter(Boolean),
  ];
}

/**
 * The registered control ids. The registry is every control's detector and schemas (with zod,
 * the larger part of the CLI's code): it is loaded before a subcommand parses its options
 * (`loadControlIds`), never for `rampart --help`.
 */
let controlIds: readonly string[] | undefined;

async function loadControlIds(): Promise<void> {
  controlIds ??= (await import('../controls')).CONTROL_IDS;
}

function knownControlIds(): readonly string[] {
  if (!controlIds) throw new Error('the control registry is not loaded (loadControlIds)');
  return controlIds;
}

/**
 * `--control` of `replay` and `scan`: its help lists the registered ids, added once the registry
 * is loaded (the option is described before it is).
 */
class ControlOption extends Option {
  constructor(private readonly purpose: string) {
    super('--control <id>', purpose);
    this.argParser(collectControls);
  }

  describeControls(ids: readonly string[]): void {
    this.description = `${this.purpose}: ${ids.join(', ')}`;
  }
}

function collectControls(value: string, previous: string[] | undefined): string[] {
  const ids = value
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean);
  // `--control ''` (an unset variable in a script): an empty list, warned about by loadPolicy
  if (ids.length === 0) return previous ?? [];
  const known = knownControlIds();
  const bad = ids.filter((id) => !known.includes(id));
  if (bad.length > 0) throw new InvalidArgumentError(`unknown control ${bad.join(', ')}; known: ${known.join(', ')}`);
  return [...(previous ?? []), ...ids];
}

function validateCommand(given: string | undefined, io: CliIo): number {
  const file = policyFile(given, io);
  if (!file) return EXIT.usage;
  // the synth's own reading (infra/app.ts): what the deployed guard needs too
  const policy = loadPolicy(file, undefined, io, { deploy: true });
  if (!policy) return EXIT.usage;
  const enabled = Object.keys(policy.controls);
  const text = `${file}: valid (mode ${policy.mode}; controls: ${enabled.length > 0 ? enabled.join(', ') : 'none enabled'})`;
  // wrapped to a terminal's width; one line on a pipe, for scripts that read it
  const { columns, isTTY } = io.stdout as { columns?: number; isTTY?: boolean };
  write(io.stdout, isTTY && columns ? wrapWords(text, columns) : text);
  return EXIT.ok;
}

/** Words wrapped to `width` columns, continuation lines indented by two. */
function wrapWords(text: string, width: number): string {
  const lines = [''];
  for (const word of text.split(' ')) {
    const last = lines[lines.length - 1]!;
    if (last.trim() !== '' && last.length + 1 + word.length > width) lines.push(`  ${word}`);
    else lines[lines.length - 1] = last === '' ? word : `${last} ${word}`;
  }
  return lines.join('\n');
}

/** Dependencies a caller may inject (tests, embedding): AWS clients. */
export interface CliDeps {
  clients?: AwsClients;
}

/**
 * Runs the `rampart` command line and returns its exit code.
 *
 * @example await run(['node', 'rampart', 'replay', '--json', 'events.ndjson'], { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin })
 */
export async function run(argv: string[], io: CliIo, deps: CliDeps = {}): Promise<number> {
  let exitCode: number = EXIT.ok;
  const program = new Command('rampart')
    .description('Continuous-remediation guard for AWS accounts')
    .version(rampartVersion(), '-V, --version', 'print the version')
    .option('--profile <name>', 'AWS profile of the shared config and credentials files (default: AWS_PROFILE), for every AWS call')
    .configureHelp({ showGlobalOptions: true })
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(forTerminal(s)), writeErr: (s) => io.stderr.write(forTerminal(s)) })
    // a usage error is one line and a pointer, not the whole help
    .showHelpAfterError('(add --help for usage)')
    .hook('preAction', loadPolicySchema);

  const replayControl = new ControlOption('judge only this control (repeat, or separate with commas)');
  const scanControl = new ControlOption('scan only this control (repeat, or separate with commas)');
  const controlOptions = [replayControl, scanControl];
  const describeControlOptions = async () => {
    await loadControlIds();
    for (const option of controlOptions) option.describeControls(knownControlIds());
  };
  // before the subcommand parses its options: `--control` checks its ids and its help lists them
  program.hook('preSubcommand', async (_program, subcommand) => {
    if (subcommand.options.some((option) => controlOptions.includes(option as ControlOption))) await describeControlOptions();
  });

  // --profile is the SDK's own AWS_PROFILE: every client of the run reads it
  const previousProfile = process.env.AWS_PROFILE;
  program.hook('preAction', () => {
    const profile = program.opts<{ profile?: string }>().profile;
    if (profile) process.env.AWS_PROFILE = profile;
  });

  outputOptions(program.command('replay'))
    .description('replay CloudTrail/Config events or CloudTrail log files against a policy, offline, and show what the guard would do')
    .argument(
      '[paths...]',
      'event files, directories, CloudTrail log files (.json, .json.gz, NDJSON), lookup-events output, - for stdin, or s3://bucket/AWSLogs/<account>/CloudTrail/<region>/',
      [],
    )
    .option('-c, --config <file>', `${CONFIG_HELP}; with no paths, the bundled example when there is none`)
    .option('--json', 'print NDJSON lines (finding, unknown, error, then summary) for scripts')
    .addOption(replayControl)
    .option('--plan', 'show the exact change each finding would get and whether it needs approval')
    .option('--apply', 'after the replay, fix each resource found in violation against the real account (read → plan → apply → verify)')
    .option('--include-high-risk', 'with --apply: also apply fixes whose risk is high (otherwise they are listed for approval)')
    .option('--since <when>', 's3:// paths: replay events from then on (2024-05-14, 2024-05-14T09:00Z, or back from now: 36h, 7d)')
    .option('--until <when>', 's3:// paths: replay events up to then; a date alone is that whole day (default: now)')
    .option('--region <region>', 'with --apply: home region; for s3:// paths, where the bucket lookup starts (default: AWS_REGION)')
    .option('--endpoint <url>', 'with --apply, and for s3:// paths: send every AWS call to this endpoint (an emulator)')
    .action(async (paths: string[], options) => {
      exitCode = await (
        await commands.replay()
      ).replayCommand(paths, { incident: BUNDLED_INCIDENT, policy: BUNDLED_POLICY }, options, io, deps.clients);
    });

  program
    .command('remediate')
    .description('fix one finding against the real account: read → plan → apply → verify; exit 0 only when verified compliant')
    .requiredOption('--finding <json>', 'one `finding` line of `replay --json` (or - to read it from stdin)')
    .option('-c, --config <file>', CONFIG_HELP)
    .option('--json', 'print the outcome as one JSON line')
    .option('--region <region>', 'home region (default: AWS_REGION)')
    .option('--endpoint <url>', 'send every AWS call to this endpoint (an emulator)')
    .option('--table <name>', "count the fix against the deployed guard's fix budget in this table (default: RAMPART_TABLE)")
    .action(async (options) => {
      exitCode = await (await commands.remediate()).remediateCommand(options, io, deps.clients);
    });

  outputOptions(program.command('scan'))
    .description(
      'sweep the real account: read every resource of the enabled controls, judge it, and show the planned fix of each violation',
    )
    .option('-c, --config <file>', CONFIG_HELP)
    .addOption(scanControl)
    .option('--fix', 'apply the low-risk fixes after the scan; list the high-risk ones for approval')
    .option('--include-high-risk', 'with --fix: also apply fixes whose risk is high')
    .option('--json', 'print the NDJSON lines of replay --json (eventId names the sweep); progress goes to stderr')
    .option('--concurrency <n>', 'resources read at once (default: policy sweep.concurrency, 32)')
    .option('--region <region>', 'home region (default: AWS_REGION); regional resources are swept in the policy regions')
    .option('--endpoint <url>', 'send every AWS call to this endpoint (an emulator)')
    .option('--table <name>', "with --fix: count fixes against the deployed guard's fix budget in this table (default: RAMPART_TABLE)")
    .option(
      '--org',
      "every account of the policy's organization: (ListAccounts from the management or a delegated-administrator account), each through its member read role",
    )
    .option(
      '--account <id>',
      'only these member accounts (repeat, or separate with commas); alone, without listing the organization',
      collectIds,
    )
    .option('--ou <id>', 'only the accounts below these organizational units (repeat, or separate with commas)', collectIds)
    .action(async (options) => {
      exitCode = await (await commands.scan()).scanCommand(options, io, deps.clients);
    });

  const findings = program.command('findings').description('findings of the deployed guard, with their history');
  guardTableOptions(findings.command('list').description('list findings, with time to remediate (median, p90)'))
    .option('--status <status>', 'open, closed or all', 'open')
    .option('--control <id>', 'only this control')
    .option('--account <id>', 'only the findings of these accounts (repeat, or separate with commas)', collectIds)
    .option('--json', 'JSON lines')
    .action(async (options) => {
      exitCode = await (await commands.findings()).listFindings(options, io);
    });
  guardTableOptions(findings.command('show').description('one finding and its history').argument('<id>', 'finding id'))
    .option('--json', 'one JSON line')
    .action(async (id: string, options) => {
      exitCode = await (await commands.findings()).showFinding(id, options, io);
    });

  const approvals = program.command('approvals').description('approval requests of the deployed guard (IAM-authenticated)');
  guardTableOptions(approvals.command('list').description('list pending approval requests'))
    .option('--json', 'one JSON line per request')
    .action(async (options) => {
      exitCode = await (await commands.approvals()).listApprovals(options, io);
    });
  for (const decision of ['approve', 'reject'] as const) {
    guardTableOptions(
      approvals
        .command(decision)
        .description(`${decision} a pending request; you are recorded as the decider`)
        .argument('<id>', 'approval id (from list)'),
    ).action(async (id: string, options) => {
      exitCode = await (await commands.approvals()).decideApprovalCommand(id, decision, options, io);
    });
  }

  program
    .command('validate-config')
    .description('check a policy file and report every bad field with its path')
    .argument('[file]', 'policy file, YAML or JSON (default: RAMPART_CONFIG, then ./rampart.config.yaml), read as cdk synth reads it')
    .action((file: string | undefined) => {
      exitCode = validateCommand(file, io);
    });

  program
    .command('doctor')
    .description(
      'check that this machine and account are ready: region, credentials, a logging trail, the Config recorder, the deployed stack and its version',
    )
    .option('--region <region>', 'region to check (default: AWS_REGION, else the profile region)')
    .option('--stack <name>', 'the deployed guard stack (default: RAMPART_STACK, else Rampart)')
    .option('--endpoint <url>', 'send every AWS call to this endpoint (an emulator)')
    .option('--json', 'one JSON line per check, then a summary line')
    .action(async (options) => {
      exitCode = await (await commands.doctor()).doctorCommand(options, io);
    });

  program
    .command('init')
    .description('write a commented starter policy (dry-run, S3 default encryption on)')
    .argument('[file]', 'where to write it', 'rampart.config.yaml')
    .option('--force', 'replace the file if it exists')
    .action(async (file: string, options: { force?: boolean }) => {
      exitCode = (await commands.init()).initCommand(file, options, io);
    });

  program
    .command('schema')
    .description("print the policy file's JSON Schema (for editors: # yaml-language-server: $schema=rampart.schema.json)")
    .action(async () => {
      exitCode = (await commands.init()).schemaCommand(io);
    });

  try {
    // `rampart help replay` prints the subcommand's help without running the hooks
    if (argv.slice(2).includes('help')) await describeControlOptions();
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    write(io.stderr, `rampart: ${messageOf(error)}`);
    return EXIT.usage;
  } finally {
    // an embedding process (the tests) keeps its own profile
    if (previousProfile === undefined) delete process.env.AWS_PROFILE;
    else process.env.AWS_PROFILE = previousProfile;
  }
  return exitCode;
}
