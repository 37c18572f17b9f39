import type { SNSEvent } from 'aws-lambda';
import { slackBlocksOf, subjectOf, type Notification } from '../../core/notify';
import { lambdaAdapter } from './adapter';
import { lazyDeps, type GuardDeps } from './deps';

/**
 * Subscribed to the topic: renders each notification as Block Kit and posts it to the Slack
 * incoming webhook (URL kept in Secrets Manager). A failed post throws, so SNS retries it.
 */
export function makeSlackNotifier(getDeps: () => GuardDeps, post: typeof fetch = (...args) => fetch(...args)) {
  return async (event: SNSEvent): Promise<{ posted: number }> => {
    const deps = getDeps();
    if (!deps.config.slackWebhookSecretArn) return { posted: 0 };
    const webhook = await deps.secrets.get(deps.config.slackWebhookSecretArn);
    let posted = 0;
    for (const record of event.Records) {
      const notification = JSON.parse(record.Sns.Message) as Notification;
      const response = await post(webhook, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ text: subjectOf(notification), blocks: slackBlocksOf(notification) }),
      });
      if (!response.ok) throw new Error(`Slack webhook answered ${response.status}`);
      posted++;
    }
    return { posted };
  };
}

export const handler = lambdaAdapter('slack-notifier', makeSlackNotifier(lazyDeps()));
