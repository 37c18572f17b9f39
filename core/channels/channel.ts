import type { Permission } from '../control';
import type { Policy } from '../policy';
import type { SecretCache } from '../secrets';
import type { TopicMessage } from '../topic-messages';

/**
 * A notification channel: one way people hear from the guard (email, Slack; Microsoft Teams or
 * PagerDuty next). Every message on the guard's topic (`TopicMessage`: notifications, exemption
 * notices, alarms, tamper alerts, anything else as text) reaches every configured channel; the
 * channel renders it in its own format, passing text from events through its own neutraliser
 * (core/neutralise.ts), and never throws on a shape it does not know. The publisher
 * (remediators/notifier.ts), the channel notifier function (handlers/channel-notifier.ts) and
 * the infrastructure (infra/constructs/notifications.ts) read the list (./index.ts): a channel
 * is one module and one line there.
 */

/** The policy keys a channel reads to know whether it is on and where it sends. */
export type ChannelPolicy = Pick<Policy, 'notifications' | 'approvals'> & Partial<Pick<Policy, 'integrations'>>;

/** What infra knows besides the policy: the registered controls (core reads no registry). */
export interface ChannelContext {
  controls: ReadonlyArray<{ id: string; securityHubControls?: readonly string[] }>;
}

/** Secrets, HTTP and AWS clients for a channel's sending: injected, so tests pass fakes. */
export interface ChannelIo {
  secrets: Pick<SecretCache, 'get'>;
  post: typeof fetch;
  /** An SDK client of the function's own account and region, made once per class. */
  client<C>(ClientClass: new (config: { region?: string }) => C): C;
}

/** An SNS subscription: its endpoint and the filter policy that says which messages it takes. */
export interface TopicSubscription {
  endpoint: string;
  filterPolicy: Record<string, unknown>;
}

/** The SNS protocols whose message a publish can set on its own (`MessageStructure: json`). */
export type TopicProtocol = 'email' | 'email-json' | 'sms' | 'http' | 'https';

interface Channel {
  /** A short lowercase name (function names, logs, the README table). */
  readonly id: string;
  /** One line for people: where the messages go and how. */
  readonly describe: string;
  /**
   * A channel of findings, not of people (Security Hub): it takes the notifications of findings
   * and renders every other message (alarms, notices, tamper alerts) as `null`, nothing to send.
   */
  readonly findingsOnly?: boolean;
}

/**
 * Delivered by SNS itself: each publish carries this channel's rendering under its protocol's
 * key, and SNS delivers it to the subscriptions the channel lists. Messages AWS publishes on the
 * topic (alarms, tamper alerts) reach it as AWS wrote them.
 */
export interface TopicChannel extends Channel {
  readonly delivery: 'topic';
  readonly protocol: TopicProtocol;
  render(message: TopicMessage): string;
  subscriptions(policy: ChannelPolicy): TopicSubscription[];
}

/**
 * Delivered by its own function subscribed to the topic: SNS hands it every message not
 * addressed to one approver, and the channel renders and sends each one. A send the far end
 * refuses throws, so SNS retries it and the dead-letter queue keeps it.
 */
export interface FunctionChannel<Settings = unknown, Rendered = unknown> extends Channel {
  readonly delivery: 'function';
  /** The function's environment, or undefined when the policy leaves the channel off. */
  environment(policy: ChannelPolicy, context?: ChannelContext): Record<string, string> | undefined;
  /** The secrets the function reads (infra grants exactly these). */
  secretArns(policy: ChannelPolicy): string[];
  /** AWS actions the function calls besides reading its secrets; `${Partition}`, `${Region}`, `${Account}` are left to infra. */
  permissions?(policy: ChannelPolicy): Permission[];
  /** Its settings back from that environment, at cold start: a missing one fails there, not on the first alarm. */
  settingsFromEnv(env: Readonly<Record<string, string | undefined>>): Settings;
  render(message: TopicMessage, settings: Settings): Rendered;
  deliver(rendered: Rendered, settings: Settings, io: ChannelIo): Promise<void>;
}

export type NotificationChannel = TopicChannel | FunctionChannel;
