import type { SNSEvent } from 'aws-lambda';
import { channelById, type ChannelIo, type FunctionChannel } from '../core/channels';
import { SecretCache } from '../core/secrets';
import { sdk } from '../core/sdk';
import { APPROVER_ATTRIBUTE, classifyTopicMessage, isTamperAlertLine, type CloudTrailEventMessage } from '../core/topic-messages';
import { lambdaAdapter } from './adapter';
import { logger, traced } from './telemetry';

/**
 * The function of a channel that is not SNS's own (Slack; Teams or PagerDuty next), subscribed
 * to the topic: each message (Rampart notification, exemption notice, CloudWatch alarm, tamper
 * alert, anything else as text) is rendered by the channel and sent. A failed send throws, so
 * SNS retries it and the dead-letter queue keeps it; a message of a shape no one knows is sent
 * as text, never thrown. Which channel it serves: `RAMPART_CHANNEL`, set by infra from the list.
 * The tamper rule invokes it too, with the whole EventBridge event (who, what, which resource),
 * so the rule's one line of text on the topic is not sent a second time.
 */

export interface ChannelNotifierDeps<Settings = unknown> {
  channel: FunctionChannel<Settings>;
  settings: Settings;
  io: ChannelIo;
}

/** Its own config, read at cold start: a channel missing a setting fails there, not on the first alarm. */
export function channelNotifierDepsFromEnv(env: NodeJS.ProcessEnv = process.env): ChannelNotifierDeps {
  const channel = channelById(env.RAMPART_CHANNEL);
  if (channel.delivery !== 'function') throw new Error(`notification channel ${channel.id} is delivered by SNS, not by a function`);
  return {
    channel,
    settings: channel.settingsFromEnv(env),
    io: {
      secrets: new SecretCache(traced(new sdk.secretsManager.SecretsManagerClient({}))),
      post: (...args) => fetch(...args),
      client: clientCache(),
    },
  };
}

/** One SDK client per class, of the function's own account and region, made on first use. */
function clientCache(): ChannelIo['client'] {
  const made = new Map<unknown, unknown>();
  return <C>(ClientClass: new (config: { region?: string }) => C): C => {
    if (!made.has(ClientClass)) made.set(ClientClass, traced(new ClientClass({})));
    return made.get(ClientClass) as C;
  };
}

export function makeChannelNotifier(getDeps: () => ChannelNotifierDeps) {
  return async (event: SNSEvent | CloudTrailEventMessage): Promise<{ posted: number; skipped: number }> => {
    const { channel, settings, io } = getDeps();
    if (!('Records' in event)) {
      // from the tamper rule: a failed send throws, so EventBridge retries and dead-letters it
      await channel.deliver(channel.render(classifyTopicMessage(JSON.stringify(event)), settings), settings, io);
      return { posted: 1, skipped: 0 };
    }
    let posted = 0;
    let skipped = 0;
    for (const record of event.Records) {
      // an approver's personal links are for their inbox only (the subscription filter keeps them out too)
      if (record.Sns.MessageAttributes?.[APPROVER_ATTRIBUTE]) {
        skipped++;
        continue;
      }
      const message = classifyTopicMessage(record.Sns.Message ?? '', record.Sns.Subject);
      if (isTamperAlertLine(message)) {
        skipped++;
        continue;
      }
      if (message.kind === 'text')
        logger.info('sending a topic message of no known shape as text', { channel: channel.id, messageId: record.Sns.MessageId });
      const rendered = channel.render(message, settings);
      if (rendered === null) {
        // a channel of findings (Security Hub) has nothing to send for an alarm or a notice
        skipped++;
        continue;
      }
      await channel.deliver(rendered, settings, io);
      posted++;
    }
    return { posted, skipped };
  };
}

function lazy(): () => ChannelNotifierDeps {
  let deps: ChannelNotifierDeps | undefined;
  return () => (deps ??= channelNotifierDepsFromEnv());
}

export const handler = lambdaAdapter('channel-notifier', makeChannelNotifier(lazy()));
