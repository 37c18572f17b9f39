import type { TopicChannel } from './channel';
import { emailChannel } from './email';

/**
 * The channels SNS delivers itself (email): the publisher renders each of them into the one
 * message, so every function that publishes carries their renderers. Apart from the function
 * channels (Slack, Security Hub), which render in a function of their own: the detectors and the
 * workflow do not carry those.
 */
export const TOPIC_CHANNELS: readonly TopicChannel[] = [emailChannel];
