import { controlOf } from '../../controls';
import type { FindingLine } from '../replay';
import type { RunContext } from '.';

/** The title a control gives itself in the registry; the id for a control this build does not know. */
export function controlTitle(id: string): string {
  return controlOf(id)?.title ?? id;
}

/** A finding's time: its event's, else the run's. */
export function findingTime(f: FindingLine, context: RunContext): Date {
  const t = Date.parse(f.eventTime ?? '');
  return Number.isNaN(t) ? context.now : new Date(t);
}

export function findingRegion(f: FindingLine, context: RunContext): string | undefined {
  return f.region ?? context.region;
}

export function findingAccount(f: FindingLine, context: RunContext): string | undefined {
  return f.account ?? f.actor?.accountId ?? context.account;
}

/** `arn:aws-cn:…` → `aws-cn`. */
export function partitionOf(arn: string): string {
  return /^arn:(aws[a-z-]*):/.exec(arn)?.[1] ?? 'aws';
}
