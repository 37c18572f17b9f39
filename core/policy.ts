import { readFileSync } from 'node:fs';
import { LineCounter, isNode, parseDocument } from 'yaml';
import { z } from 'zod';
import { PolicyError, type PolicyIssue } from './errors';
import type { AnyDetector } from './control';
import { DEFAULT_EXPIRY_TAG_KEY } from './exemptions';
import { mergeSettings } from './overrides';

/**
 * The policy file (`rampart.config.yaml` or `.json`): which controls are on and what they
 * require. The same file feeds infra at synth time and the Lambdas at run time.
 * Unknown keys are errors: a typo must not silently switch a control off.
 */

const secretArn = z.string().regex(/^arn:aws[a-z-]*:secretsmanager:/, { message: 'expected a Secrets Manager secret ARN' });

/** An IAM user or role ARN (a role may have a path); `rampart approvals` callers are matched against these. */
const iamPrincipalArn = z.string().regex(/^arn:aws[a-z-]*:iam::\d{12}:(role|user)\/[\w+=,.@/-]+$/, {
  message: 'expected an IAM role or user ARN (arn:aws:iam::<account>:role/<name>)',
});

export const approvalsPolicySchema = z
  .strictObject({
    // Step Functions waits at most a year for a task token
    timeoutHours: z
      .number()
      .positive()
      .max(24 * 365)
      .default(24),
    /** Who may decide; at least one list is required when any control has risk high. */
    approvers: z
      .strictObject({
        slackUserIds: z
          .array(z.string().regex(/^[UW][A-Z0-9]{2,}$/, { message: 'expected a Slack user id such as U012ABCDEF' }))
          .default([]),
        emails: z.array(z.email()).default([]),
        iamPrincipalArns: z.array(iamPrincipalArn).default([]),
      })
      .default({ slackUserIds: [], emails: [], iamPrincipalArns: [] }),
    /** The actor whose change caused the finding may approve its fix only when true. */
    allowSelfApproval: z.boolean().default(false),
  })
  .default({ timeoutHours: 24, approvers: { slackUserIds: [], emails: [], iamPrincipalArns: [] }, allowSelfApproval: false });

/** An EventBridge Scheduler expression: `rate(1 hour)`, `cron(0 * * * ? *)`. */
// rate(value unit): a whole number, the unit singular for 1 (rate(1 hour), rate(15 minutes));
// cron: the six fields minutes hours day-of-month month day-of-week year
const RATE = /^rate\((?:1 (?:minute|hour|day)|(?:[2-9]|[1-9]\d+) (?:minutes|hours|days))\)$/;
const CRON = /^cron\(\S+( \S+){5}\)$/;
const scheduleExpression = z.string().refine((s) => RATE.test(s) || CRON.test(s), {
  message: 'expected an EventBridge Scheduler expression such as rate(1 hour), rate(15 minutes) or cron(0 * * * ? *)',
});

/** A 12-digit AWS account id (the policy and the CLI's `--account` alike). */
export const ACCOUNT_ID_PATTERN = /^\d{12}$/;
const accountId = z.string().regex(ACCOUNT_ID_PATTERN, { message: 'expected a 12-digit AWS account id' });
/**
 * An organizational unit id. AWS documents `ou-` + 4-32 characters (the root's id) + `-` + 8-32
 * (Organizations API Reference, OrganizationalUnit.Id); the second part is checked for its
 * characters only, so a shortened id in an example reads too (it can never match a real OU).
 */
export const OU_ID_PATTERN = /^ou-[0-9a-z]{4,32}-[0-9a-z]{1,32}$/;
const ouId = z.string().regex(OU_ID_PATTERN, { message: 'expected an organizational unit id such as ou-ab12-cdef3456' });
const regionName = z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, { message: 'expected a region name such as us-east-1' });
/** An IAM role name (IAM's own limit: 64 characters of `[\w+=,.@-]`). */
const roleName = z.string().regex(/^[\w+=,.@-]{1,64}$/, { message: 'expected an IAM role name (up to 64 letters, digits or +=,.@_-)' });

export const DEFAULT_MEMBER_ROLES = { read: 'RampartRead', remediate: 'RampartRemediate' } as const;
export const DEFAULT_ORG_SWEEP = { maxConcurrency: 40, toleratedFailurePercentage: 10 } as const;

/** The organization a hub guards (`organization:`); absent, the guard guards its own account. */
export const organizationPolicySchema = z.strictObject({
  /** The organization's id (`o-…`): the hub bus and the member roles accept only its principals (`aws:PrincipalOrgID`). */
  id: z
    .string()
    .regex(/^o-[a-z0-9]{10,32}$/, { message: 'expected an organization id such as o-a1b2c3d4e5' })
    .optional(),
  /** `all` accounts of the organization, or these account ids. */
  accounts: z.union([z.literal('all'), z.array(accountId).min(1, { message: 'list at least one account, or write all' })]).default('all'),
  /** Only accounts below these OUs (at any depth); empty: no OU filter. */
  organizationalUnits: z.array(ouId).default([]),
  excludeAccounts: z.array(accountId).default([]),
  /** Regions swept in every account; empty: the policy's `regions` (or the hub's own). */
  regions: z.array(regionName).default([]),
  /** The roles the member stack creates in every account, assumed by the hub. */
  memberRoles: z
    .strictObject({ read: roleName.default(DEFAULT_MEMBER_ROLES.read), remediate: roleName.default(DEFAULT_MEMBER_ROLES.remediate) })
    .default({ ...DEFAULT_MEMBER_ROLES }),
  /** The hub bus accepts events only from accounts below these paths (`aws:PrincipalOrgPaths`, `o-…/r-…/ou-…/`); empty: the whole organization. */
  orgPaths: z
    .array(
      z.string().regex(/^o-[a-z0-9]{10,32}\/r-[0-9a-z]{4,32}(\/ou-[0-9a-z]{4,32}-[0-9a-z]{1,32})*\/\*?$/, {
        message: 'expected an organization path such as o-a1b2c3d4e5/r-ab12/ou-ab12-cdef3456/',
      }),
    )
    .default([]),
  /** Roles besides the hub's functions that may assume the member roles: who runs `rampart scan --org` or `remediate`. */
  operatorRoleArns: z.array(iamPrincipalArn).default([]),
  /** The organization sweep's Distributed Map: accounts swept at once, and the share of failed accounts it tolerates. */
  sweep: z
    .strictObject({
      maxConcurrency: z.number().int().min(1).max(10_000).default(DEFAULT_ORG_SWEEP.maxConcurrency),
      toleratedFailurePercentage: z.number().min(0).max(100).default(DEFAULT_ORG_SWEEP.toleratedFailurePercentage),
    })
    .default({ ...DEFAULT_ORG_SWEEP }),
});

/** One override: for these accounts or OUs, any control's settings (and the mode), merged over the base. */
export const overrideSchema = z
  .strictObject({
    accounts: z.array(accountId).optional(),
    organizationalUnits: z.array(ouId).optional(),
    mode: z.enum(['enforce', 'dry-run']).optional(),
    /** Per control id, settings merged over the base's (objects key by key; lists and values replace). */
    controls: z.record(z.string(), z.record(z.string(), z.unknown())).optional(),
  })
  .superRefine((value, ctx) => {
    if ((value.accounts?.length ?? 0) + (value.organizationalUnits?.length ?? 0) > 0) return;
    ctx.addIssue({ code: 'custom', path: [], message: 'an override names the accounts or organizationalUnits it applies to' });
  });

/** The guard's own keys: everything but `controls`, whose keys come from the registry. */
export const guardPolicyShape = {
  mode: z.enum(['enforce', 'dry-run']).default('enforce'),
  organization: organizationPolicySchema.optional(),
  /** Per account or OU: settings merged over the base, in order (a later match wins). */
  overrides: z.array(overrideSchema).default([]),
  /** Regions the sweep and the CLI scan (S3 buckets are found in every region regardless). */
  regions: z.array(z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, { message: 'expected a region name such as us-east-1' })).default([]),
  notifications: z
    .strictObject({
      emails: z.array(z.email()).default([]),
      slack: z
        .strictObject({
          /** Secret holding the Slack incoming webhook URL (notifications). */
          webhookSecretArn: secretArn,
          /** Secret holding the Slack app's signing secret: enables the Approve/Reject buttons. */
          signingSecretArn: secretArn.optional(),
          /** The workspace (`T…`) whose clicks count; required with `signingSecretArn`. */
          teamId: z
            .string()
            .regex(/^[TE][A-Z0-9]{2,}$/, { message: 'expected a Slack team id such as T012AB3C4' })
            .optional(),
          /** The Slack app (`A…`) that posts the buttons; required with `signingSecretArn`. */
          appId: z
            .string()
            .regex(/^A[A-Z0-9]{2,}$/, { message: 'expected a Slack app id such as A0123ABCD' })
            .optional(),
        })
        .superRefine((value, ctx) => {
          if (value.signingSecretArn === undefined) return;
          // a signing secret alone proves the request came from Slack, not from which workspace or app
          for (const key of ['teamId', 'appId'] as const) {
            if (value[key] === undefined)
              ctx.addIssue({
                code: 'custom',
                path: [key],
                message: `${key} is required with signingSecretArn (the buttons count only clicks from this Slack ${key === 'teamId' ? 'workspace' : 'app'})`,
              });
          }
        })
        .optional(),
    })
    .default({ emails: [] }),
  /** Per-resource fix budget: beyond it a fix is refused as `loop-suspected` and a human decides. */
  fixBudget: z
    .strictObject({
      maxFixes: z.number().int().positive().default(3),
      windowMinutes: z.number().positive().default(60),
    })
    .default({ maxFixes: 3, windowMinutes: 60 }),
  approvals: approvalsPolicySchema,
  /** The periodic sweep of every resource: what makes the guard complete. */
  sweep: z
    .strictObject({
      /** EventBridge Scheduler expression: `rate(1 hour)`, `cron(0 * * * ? *)`. */
      schedule: scheduleExpression.default('rate(1 hour)'),
      /**
       * Per control id: a schedule of its own besides `schedule`, for a control whose events may
       * stop arriving (a stopped trail delivers no CloudTrail events, its own StartLogging included).
       */
      schedules: z.record(z.string(), scheduleExpression).default({}),
      /** Resources read at once. */
      concurrency: z.number().int().min(1).max(256).default(32),
    })
    .default({ schedule: 'rate(1 hour)', schedules: {}, concurrency: 32 }),
  /** Where else findings go besides the notification channels. */
  integrations: z
    .strictObject({
      /** Import every finding into AWS Security Hub (ASFF, the account's default product) and resolve it when fixed. */
      securityHub: z.boolean().default(false),
    })
    .default({ securityHub: false }),
  /** Closed findings are kept this long (DynamoDB TTL), for the audit trail. */
  findings: z.strictObject({ retentionDays: z.number().int().positive().default(90) }).default({ retentionDays: 90 }),
  exemptions: z
    .strictObject({
      /** A resource carrying any of these tag key/value pairs is exempt. */
      tags: z.record(z.string(), z.string()).default({}),
      /** Exempt resource ARNs; `*` matches any run of characters. */
      arns: z.array(z.string().min(1)).default([]),
      /** `true`: a tag exemption exempts only while the resource also carries a valid, future expiry tag. */
      requireExpiry: z.boolean().default(false),
      /** The tag holding a tag exemption's expiry: a date (`2027-01-31`, through that day, UTC) or an ISO timestamp. */
      expiryTagKey: z
        .string()
        .min(1)
        .max(128, { message: 'a tag key has at most 128 characters' })
        .refine((key) => !key.startsWith('aws:'), { message: 'tag keys starting with aws: are reserved by AWS' })
        .default(DEFAULT_EXPIRY_TAG_KEY),
    })
    .superRefine((value, ctx) => {
      if (Object.hasOwn(value.tags, value.expiryTagKey)) {
        ctx.addIssue({
          code: 'custom',
          path: ['expiryTagKey'],
          message: `${value.expiryTagKey} is an exemption tag too: the expiry tag must be another key`,
        });
      }
    })
    .default({ tags: {}, arns: [], requireExpiry: false, expiryTagKey: DEFAULT_EXPIRY_TAG_KEY }),
};

/** What the policy schema needs of a control: its id and the schema of its slice. */
export interface ControlPolicyEntry {
  readonly id: string;
  readonly policySchema: z.core.$ZodType;
  /** The control's detector: its `completePolicy`, and what the other controls' completions read of it (triggers). */
  readonly detector?: AnyDetector;
  /** The regional resources the slice names (a web ACL ARN): a deployable policy refuses one outside `regions`. */
  readonly policyRegions?: (policy: never) => ReadonlyArray<{ path: readonly PropertyKey[]; region: string }>;
}

type ControlsShape<Cs extends readonly ControlPolicyEntry[]> = { [C in Cs[number] as C['id']]: z.ZodOptional<C['policySchema']> };

/**
 * The policy schema of a set of controls: the guard's own keys, and under `controls` one
 * optional key per control with that control's schema (controls absent from the policy are
 * off). The registry assembles it (`controls/policy.ts`); its JSON Schema (`z.toJSONSchema`)
 * documents the file.
 *
 * @example const schema = buildPolicySchema(CONTROLS); schema.parse({ controls: { 'apigateway-throttling': { rateLimit: 100, burstLimit: 50 } } })
 */
export function buildPolicySchema<const Cs extends readonly ControlPolicyEntry[]>(controls: Cs) {
  const shape = Object.fromEntries(controls.map((c) => [c.id, z.optional(c.policySchema)])) as ControlsShape<Cs>;
  const regionsOf = new Map(controls.flatMap((c) => (c.policyRegions ? [[c.id, c.policyRegions] as const] : [])));
  return z
    .strictObject({ ...guardPolicyShape, controls: z.strictObject(shape).default({} as never) })
    .superRefine((policy, ctx) => {
      // a schedule of a control that is off would sweep nothing: a typo, most likely
      for (const id of Object.keys(policy.sweep.schedules)) {
        if ((policy.controls as Record<string, unknown>)[id] !== undefined) continue;
        ctx.addIssue({ code: 'custom', path: ['sweep', 'schedules', id], message: `${id} is not a control the policy enables` });
      }
      // each override, merged over the base, must be a valid setting of its control
      const schemaOf = new Map(controls.map((c) => [c.id, c.policySchema]));
      policy.overrides.forEach((override, index) => {
        for (const [id, settings] of Object.entries(override.controls ?? {})) {
          const path = ['overrides', index, 'controls', id];
          const base = (policy.controls as Record<string, unknown>)[id];
          const schema = schemaOf.get(id);
          if (!schema || base === undefined) {
            const why = schema ? 'an override changes the settings of an enabled control, it does not turn one on' : 'no such control';
            ctx.addIssue({ code: 'custom', path, message: `${id} is not a control the policy enables (${why})` });
            continue;
          }
          const merged = z.safeParse(schema, mergeSettings(base, settings));
          for (const issue of merged.success ? [] : merged.error.issues)
            ctx.addIssue({ code: 'custom', path: [...path, ...(issue.path as PropertyKey[])], message: issue.message });
        }
      });
      // a resource the policy names in a region it does not guard can never be attached
      if (policy.regions.length === 0) return;
      for (const [id, slice] of Object.entries(policy.controls as Record<string, unknown>)) {
        const named = slice === undefined ? [] : (regionsOf.get(id)?.(slice as never) ?? []);
        for (const { path, region } of named) {
          if (policy.regions.includes(region)) continue;
          ctx.addIssue({
            code: 'custom',
            path: ['controls', id, ...path],
            message: `is in ${region}, a region the policy does not guard (regions: ${policy.regions.join(', ')})`,
          });
        }
      }
    })
    .transform((policy) => completed(policy, controls));
}

/** Each enabled control's slice completed from the other enabled controls (`Detector.completePolicy`). */
function completed<P extends { controls: object }>(policy: P, controls: readonly ControlPolicyEntry[]): P {
  const slices = policy.controls as Record<string, unknown>;
  const enabled = controls.filter((c) => slices[c.id] !== undefined).flatMap((c) => (c.detector ? [c.detector] : []));
  let changed: Record<string, unknown> | undefined;
  for (const c of controls) {
    const complete = c.detector?.completePolicy;
    if (!complete || slices[c.id] === undefined) continue;
    changed ??= { ...slices };
    changed[c.id] = complete(slices[c.id], enabled);
  }
  return changed ? { ...policy, controls: changed } : policy;
}

/** A policy of some controls, as core and the engine see it: the guard's keys typed, each control's slice its own. */
export type Policy = z.infer<z.ZodObject<typeof guardPolicyShape>> & { controls: Readonly<Partial<Record<string, unknown>>> };
export type ApprovalsPolicy = z.infer<typeof approvalsPolicySchema>;

/**
 * The policy a deployed guard runs on: beyond the schema, a high-risk fix needs someone who may
 * approve it. Offline tools (replay, scan) approve nothing and take the plain schema.
 */
export function deployable<S extends z.ZodType<Policy>>(schema: S) {
  return schema.superRefine((policy, ctx) => {
    // a deployed guard with no control judges nothing: most likely an empty or mistyped file
    if (Object.keys(policy.controls).length === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['controls'],
        message: 'no control is enabled: a deployed guard would judge nothing (enable at least one control under controls)',
      });
      return;
    }
    const overridden = policy.overrides.flatMap((o) => Object.entries(o.controls ?? {}));
    const highRisk = [
      ...new Set(
        [...Object.entries(policy.controls), ...overridden].flatMap(([id, control]) =>
          (control as { risk?: string } | undefined)?.risk === 'high' ? [id] : [],
        ),
      ),
    ];
    const { slackUserIds, emails, iamPrincipalArns } = policy.approvals.approvers;
    if (highRisk.length === 0 || slackUserIds.length + emails.length + iamPrincipalArns.length > 0) return;
    ctx.addIssue({
      code: 'custom',
      path: ['approvals', 'approvers'],
      message: `${highRisk.join(', ')} ${highRisk.length === 1 ? 'has' : 'have'} risk high: list who may approve in approvals.approvers (slackUserIds, emails or iamPrincipalArns)`,
    });
  });
}

/** The schemas a policy is read with: the plain one, and the deployable one (synth, `validate-config`). */
export interface PolicySchemas<P extends Policy> {
  plain: z.ZodType<P>;
  deployable: z.ZodType<P>;
}

/**
 * What an issue says: a bad key of a record (a map keyed by REST API id, by stage) says what a
 * key must be, not zod's bare "Invalid key in record".
 */
function messageOfIssue(issue: { code?: string; message: string; issues?: ReadonlyArray<{ message: string }> }): string {
  if (issue.code === 'invalid_key' && issue.issues && issue.issues.length > 0)
    return `invalid key: ${issue.issues.map((i) => i.message).join('; ')}`;
  return issue.message;
}

function pathOf(path: readonly PropertyKey[]): string {
  return path.map(String).join('.');
}

export interface ParseOptions {
  /** Check what the deployed guard needs too (`rampart validate-config`, `cdk synth`): approvers for high-risk fixes. */
  deploy?: boolean;
}

/**
 * Validates a parsed policy object; throws {@link PolicyError} listing every bad field.
 * `locate` turns a field path into a position in the source (`line 12`), when known.
 */
export function parsePolicyWith<P extends Policy>(
  schemas: PolicySchemas<P>,
  value: unknown,
  source = 'policy',
  locate?: (path: PropertyKey[]) => string | undefined,
  options: ParseOptions = {},
): P {
  const result = (options.deploy ? schemas.deployable : schemas.plain).safeParse(value ?? {});
  if (result.success) return result.data;
  const issues: PolicyIssue[] = result.error.issues.map((issue) => {
    const where = locate?.(issue.path as PropertyKey[]);
    const message = messageOfIssue(issue);
    return { path: pathOf(issue.path as PropertyKey[]), message: where ? `${message} (${where})` : message };
  });
  throw new PolicyError(source, issues);
}

/**
 * Parses policy text, YAML or JSON (JSON is YAML). Syntax errors and schema errors both come
 * back as a {@link PolicyError} with the line of the problem.
 *
 * @example parsePolicyTextWith(schemas, 'controls:\n  apigateway-throttling: { rateLimit: 100, burstLimit: 50 }\n')
 */
export function parsePolicyTextWith<P extends Policy>(
  schemas: PolicySchemas<P>,
  text: string,
  source = 'policy',
  options: ParseOptions = {},
): P {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new PolicyError(
      source,
      doc.errors.map((e) => {
        const pos = lineCounter.linePos(e.pos[0]);
        return { path: '', message: `syntax error at line ${pos.line}, column ${pos.col}: ${e.message.split('\n')[0]}` };
      }),
    );
  }
  const locate = (path: PropertyKey[]): string | undefined => {
    for (let depth = path.length; depth > 0; depth--) {
      const node = doc.getIn(path.slice(0, depth), true);
      if (isNode(node) && node.range) return `line ${lineCounter.linePos(node.range[0]).line}`;
    }
    return undefined;
  };
  return parsePolicyWith(schemas, doc.toJS(), source, locate, options);
}

/** Reads and validates a policy file; a missing or unreadable file is a {@link PolicyError} too. */
export function loadPolicyFileWith<P extends Policy>(schemas: PolicySchemas<P>, file: string, options: ParseOptions = {}): P {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new PolicyError(file, [{ path: '', message: code === 'ENOENT' ? 'file not found' : `cannot read file (${code})` }], {
      cause: error,
    });
  }
  return parsePolicyTextWith(schemas, text, file, options);
}
