import type { AwsSecurityFinding, BatchUpdateFindingsCommandInput, SecurityHubClient } from '@aws-sdk/client-securityhub';
import { toAsffFinding } from '../asff';
import type { Notification, NotificationKind } from '../notify';
import { lazyModule } from '../sdk';
import type { TopicMessage } from '../topic-messages';
import type { ChannelContext, ChannelPolicy, FunctionChannel } from './channel';

/**
 * AWS Security Hub as a channel (policy `integrations.securityHub: true`): every notification
 * of a finding is imported (`BatchImportFindings`, ASFF, the account's default product, one
 * finding per Rampart finding id, so each step updates the same one), and a finding that ends
 * fixed, already compliant, gone or exempt is resolved (`BatchUpdateFindings`: workflow
 * `RESOLVED` or `SUPPRESSED`, with a note saying why). Alarms, tamper alerts and exemption
 * notices are not findings of a resource: they are left to the people channels. A refused
 * import throws, so SNS retries it and the dead-letter queue keeps it.
 */

// eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on first send, not at every cold start (core/sdk.ts)
const securityHub = lazyModule(() => require('@aws-sdk/client-securityhub') as typeof import('@aws-sdk/client-securityhub'));

export interface SecurityHubSettings {
  /** The guard's own account and region: the default product's, and the only ones it may import into. */
  account: string;
  region: string;
  partition: string;
  /** Control id → the matching Security Hub control ids (from the registry, by infra). */
  controlIds: Readonly<Record<string, readonly string[]>>;
}

/** What one notification becomes: the finding to import, and how to close it when the workflow ended it. */
export interface SecurityHubDelivery {
  finding: AwsSecurityFinding;
  close?: Pick<BatchUpdateFindingsCommandInput, 'Workflow' | 'Note'>;
}

/** How each outcome leaves the Security Hub finding: still failing, fixed, or not a violation any more. */
const STATE_OF: Record<NotificationKind, { compliance: 'FAILED' | 'PASSED' | 'NOT_AVAILABLE'; close?: 'RESOLVED' | 'SUPPRESSED' }> = {
  detected: { compliance: 'FAILED' },
  'awaiting-approval': { compliance: 'FAILED' },
  'dry-run': { compliance: 'FAILED' },
  'loop-suspected': { compliance: 'FAILED' },
  rejected: { compliance: 'FAILED' },
  expired: { compliance: 'FAILED' },
  failed: { compliance: 'FAILED' },
  remediated: { compliance: 'PASSED', close: 'RESOLVED' },
  'already-compliant': { compliance: 'PASSED', close: 'RESOLVED' },
  'resource-gone': { compliance: 'NOT_AVAILABLE', close: 'RESOLVED' },
  exempt: { compliance: 'NOT_AVAILABLE', close: 'SUPPRESSED' },
};

// BatchUpdateFindings: Note.Text at most 512 characters, Note.UpdatedBy at most 512
const note = (text: string) => ({ Text: text.length <= 512 ? text : `${text.slice(0, 511)}…`, UpdatedBy: 'rampart' });

/** The import (and the closing update) of one notification; pure. */
export function securityHubDeliveryOf(n: Notification, settings: SecurityHubSettings, now: Date): SecurityHubDelivery {
  const f = n.finding;
  const state = STATE_OF[n.kind];
  const base = toAsffFinding(f, {
    account: settings.account,
    region: settings.region,
    partition: settings.partition,
    title: `Rampart ${f.control}: ${f.violation}`,
    createdAt: new Date(f.eventTime && !Number.isNaN(Date.parse(f.eventTime)) ? f.eventTime : now),
    updatedAt: now,
    productFields: {
      'rampart/outcome': n.kind,
      ...(f.account ? { 'rampart/resourceAccount': f.account } : {}),
      ...(n.reason ? { 'rampart/reason': n.reason.slice(0, 1024) } : {}),
      // the AWS Security Hub controls that judge the same thing (`APIGateway.4`), where there are any
      ...(settings.controlIds[f.control]?.length ? { 'rampart/securityHubControlIds': settings.controlIds[f.control]!.join(',') } : {}),
    },
  });
  const finding: AwsSecurityFinding = {
    ...base,
    Resources: (base.Resources ?? []).map((r) => ({ ...r, Region: f.region ?? settings.region })),
    Compliance: { Status: state.compliance },
    RecordState: state.close ? 'ARCHIVED' : 'ACTIVE',
  };
  if (!state.close) return { finding };
  const why = n.reason ? `: ${n.reason}` : '';
  return { finding, close: { Workflow: { Status: state.close }, Note: note(`Rampart ${n.kind}${why}`) } };
}

export const securityHubChannel: FunctionChannel<SecurityHubSettings, SecurityHubDelivery | null> = {
  id: 'security-hub',
  describe: 'AWS Security Hub: each finding imported in ASFF (integrations.securityHub), resolved when fixed',
  delivery: 'function',
  findingsOnly: true,
  environment(policy: ChannelPolicy, context?: ChannelContext) {
    if (!policy.integrations?.securityHub) return undefined;
    const controlIds = Object.fromEntries(
      (context?.controls ?? []).flatMap((c) => (c.securityHubControls?.length ? [[c.id, c.securityHubControls]] : [])),
    );
    return { RAMPART_SECURITY_HUB_CONTROLS: JSON.stringify(controlIds) };
  },
  secretArns: () => [],
  permissions: () => [
    // the account's own default product: the only one a custom tool may import into
    {
      actions: ['securityhub:BatchImportFindings'],
      resources: ['arn:${Partition}:securityhub:${Region}:${Account}:product/${Account}/default'],
    },
    { actions: ['securityhub:BatchUpdateFindings'], resources: ['arn:${Partition}:securityhub:${Region}:${Account}:hub/default'] },
  ],
  settingsFromEnv(env) {
    const region = env.AWS_REGION;
    const account = env.RAMPART_ACCOUNT;
    if (!region || !account) throw new Error('environment variables AWS_REGION and RAMPART_ACCOUNT must be set for Security Hub');
    let controlIds: Record<string, string[]> = {};
    if (env.RAMPART_SECURITY_HUB_CONTROLS) controlIds = JSON.parse(env.RAMPART_SECURITY_HUB_CONTROLS) as Record<string, string[]>;
    return { account, region, partition: env.RAMPART_PARTITION ?? 'aws', controlIds };
  },
  render: (message: TopicMessage, settings) =>
    message.kind === 'notification' ? securityHubDeliveryOf(message.notification, settings, new Date()) : null,
  async deliver(rendered, _settings, io) {
    if (!rendered) return;
    const { BatchImportFindingsCommand, BatchUpdateFindingsCommand, SecurityHubClient: Client } = securityHub();
    const client: SecurityHubClient = io.client(Client);
    const imported = await client.send(new BatchImportFindingsCommand({ Findings: [rendered.finding] }));
    // a batch call answers 200 with the findings it refused listed: that is a failure too
    const refused = imported.FailedFindings?.[0];
    if (refused || imported.FailedCount) {
      throw new Error(`Security Hub refused the finding: ${refused?.ErrorCode ?? 'error'} ${refused?.ErrorMessage ?? ''}`.trim());
    }
    if (!rendered.close) return;
    const updated = await client.send(
      new BatchUpdateFindingsCommand({
        FindingIdentifiers: [{ Id: rendered.finding.Id, ProductArn: rendered.finding.ProductArn }],
        ...rendered.close,
      }),
    );
    const unprocessed = updated.UnprocessedFindings?.[0];
    if (unprocessed) throw new Error(`Security Hub did not resolve the finding: ${unprocessed.ErrorCode} ${unprocessed.ErrorMessage}`);
  },
};
