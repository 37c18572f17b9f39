import type { SNSEvent } from 'aws-lambda';
import { SecretCache } from '../core/secrets';
import { sdk } from '../core/sdk';
import { classifyTopicMessage, slackMessageOf } from '../core/topic-messages';
import { APPROVER_ATTRIBUTE } from '../remediators/notifier';
import { lambdaAdapter } from './adapter';
import { logger, tracer } from './telemetry';

/**
 * Subscribed to the topic: renders each message (Rampart notification, CloudWatch alarm, tamper
 * alert, anything else as text) and posts it to the Slack incoming webhook (URL kept in Secrets
 * Manager). A failed post throws, so SNS retries it and the dead-letter queue keeps it; a
 * message of a shape it does not know is posted as text, never thrown.
 */

export interface SlackNotifierDeps {
  webhookSecretArn: string;
  /** Approve/Reject buttons: only when the approval API has Slack's signing secret. */
  buttons: boolean;
  secrets: Pick<SecretCache, 'get'>;
}

/** Its own config, read at cold start: a missing webhook fails there, not on the first alarm. */
export function slackNotifierDepsFromEnv(env: NodeJS.ProcessEnv = process.env): SlackNotifierDeps {
  const webhookSecretArn = env.RAMPART_SLACK_WEBHOOK_SECRET_ARN;
  if (!webhookSecretArn) throw new Error('environment variable RAMPART_SLACK_WEBHOOK_SECRET_ARN is not set');
  return {
    webhookSecretArn,
    buttons: env.RAMPART_SLACK_BUTTONS === 'true',
    secrets: new SecretCache(tracer.captureAWSv3Client(new sdk.secretsManager.SecretsManagerClient({}))),
  };
}

export function makeSlackNotifier(getDeps: () => SlackNotifierDeps, post: typeof fetch = (...args) => fetch(...args)) {
  return async (event: SNSEvent): Promise<{ posted: number; skipped: number }> => {
    const deps = getDeps();
    const webhook = await deps.secrets.get(deps.webhookSecretArn);
    let posted = 0;
    let skipped = 0;
    for (const record of event.Records) {
      // an approver's personal links are for their inbox only (the subscription filter keeps them out too)
      if (record.Sns.MessageAttributes?.[APPROVER_ATTRIBUTE]) {
        skipped++;
        continue;
      }
      const message = classifyTopicMessage(record.Sns.Message ?? '', record.Sns.Subject);
      if (message.kind === 'text') logger.info('posting a topic message of no known shape as text', { messageId: record.Sns.MessageId });
      const response = await post(webhook, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(slackMessageOf(message, { buttons: deps.buttons })) });
      if (!response.ok) throw new Error(`Slack webhook answered ${response.status}`);
      posted++;
    }
    return { posted, skipped };
  };
}

function lazy(): () => SlackNotifierDeps {
  let deps: SlackNotifierDeps | undefined;
  return () => (deps ??= slackNotifierDepsFromEnv());
}

export const handler = lambdaAdapter('slack-notifier', makeSlackNotifier(lazy()));
