import type { FunctionChannel, NotificationChannel, TopicChannel } from './channel';
import { securityHubChannel } from './security-hub';
import { slackChannel } from './slack';
import { TOPIC_CHANNELS } from './topic-channels';

/**
 * THE list of notification channels. The publisher, the channel notifier function and the
 * infrastructure read it; a new channel (Microsoft Teams, PagerDuty) is its module and a line here
 * (a channel SNS delivers itself: a line in ./topic-channels.ts). Security Hub is one too: a
 * channel of findings rather than of people.
 */
export const CHANNELS: readonly NotificationChannel[] = [...TOPIC_CHANNELS, slackChannel, securityHubChannel];

export type {
  ChannelContext,
  ChannelIo,
  ChannelPolicy,
  FunctionChannel,
  NotificationChannel,
  TopicChannel,
  TopicSubscription,
} from './channel';

/** The channels SNS delivers itself, each writing the body of its protocol in every publish. */
export const topicChannelsOf = (channels: readonly NotificationChannel[]) =>
  channels.filter((c): c is TopicChannel => c.delivery === 'topic');
/** The channels with a function of their own subscribed to the topic. */
export const functionChannelsOf = (channels: readonly NotificationChannel[]) =>
  channels.filter((c): c is FunctionChannel => c.delivery === 'function');

/** The channel of this id; a clear error for an id the list does not hold (a stale function environment). */
export function channelById(id: string | undefined, channels: readonly NotificationChannel[] = CHANNELS): NotificationChannel {
  const channel = channels.find((c) => c.id === id);
  if (!channel) throw new Error(`no notification channel ${JSON.stringify(id)} (known: ${channels.map((c) => c.id).join(', ')})`);
  return channel;
}
