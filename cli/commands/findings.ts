import { DynamoFindingsStore } from '../../core/dynamo-stores';
import { guardTable, type GuardTableOptions } from '../guard-table';
import { reportAwsFailure } from '../aws-access';
import type { FindingRecord, FindingsStore } from '../../core/stores';
import { EXIT, write, type CliIo } from '../io';
import { compact, table } from '../render';

export interface FindingsOptions extends GuardTableOptions {
  status?: 'open' | 'closed' | 'all';
  control?: string;
  /** Only the findings of these accounts (a hub's table holds every member's). */
  account?: string[];
}

async function store(options: FindingsOptions, io: CliIo): Promise<FindingsStore | number> {
  const table = await guardTable(options, io);
  return typeof table === 'number' ? table : new DynamoFindingsStore(table.db, table.name);
}

/** Median and 90th percentile of the time from detection to a verified fix, in seconds. */
export function timeToRemediate(records: FindingRecord[]): { count: number; p50?: number; p90?: number } {
  const seconds = records
    .filter((r) => r.outcome === 'remediated' && r.closedAt)
    .map((r) => (Date.parse(r.closedAt!) - Date.parse(r.openedAt)) / 1000)
    .sort((a, b) => a - b);
  if (seconds.length === 0) return { count: 0 };
  const at = (q: number) => seconds[Math.min(seconds.length - 1, Math.ceil(q * seconds.length) - 1)]!;
  return { count: seconds.length, p50: at(0.5), p90: at(0.9) };
}

function duration(s: number): string {
  if (s < 120) return `${Math.round(s)} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}

export async function listFindings(options: FindingsOptions, io: CliIo, injected?: FindingsStore): Promise<number> {
  const findings = injected ?? (await store(options, io));
  if (typeof findings === 'number') return findings;
  const status = options.status ?? 'open';
  if (!['open', 'closed', 'all'].includes(status)) {
    write(io.stderr, `--status must be open, closed or all, not ${status}`);
    return EXIT.usage;
  }
  const records: FindingRecord[] = [];
  try {
    for await (const r of findings.list()) {
      if (options.control && r.finding.control !== options.control) continue;
      if (options.account?.length && !options.account.includes(r.finding.account ?? '')) continue;
      if (status === 'open' && r.status === 'closed') continue;
      if (status === 'closed' && r.status !== 'closed') continue;
      records.push(r);
    }
  } catch (error) {
    return reportAwsFailure(io, 'list findings', error);
  }
  records.sort((a, b) => a.openedAt.localeCompare(b.openedAt));
  const ttr = timeToRemediate(records);
  if (options.json) {
    for (const r of records) write(io.stdout, JSON.stringify({ type: 'finding-record', ...r }));
    write(
      io.stdout,
      JSON.stringify({
        type: 'summary',
        findings: records.length,
        open: records.filter((r) => r.status !== 'closed').length,
        remediated: ttr.count,
        timeToRemediateP50Seconds: ttr.p50 ?? null,
        timeToRemediateP90Seconds: ttr.p90 ?? null,
      }),
    );
    return EXIT.ok;
  }
  if (records.length === 0) write(io.stdout, `no ${status === 'all' ? '' : `${status} `}findings`);
  else
    write(
      io.stdout,
      table(
        ['ID', 'STATUS', 'OUTCOME', 'CONTROL', 'ACCOUNT', 'RESOURCE', 'OPENED', 'CLOSED'],
        records.map((r) => [
          r.id,
          r.status,
          r.outcome ?? '-',
          r.finding.control,
          r.finding.account || '-',
          r.finding.resourceArn,
          r.openedAt,
          r.closedAt ?? '-',
        ]),
      ),
    );
  const byControl = new Map<string, number>();
  for (const r of records) byControl.set(r.finding.control, (byControl.get(r.finding.control) ?? 0) + 1);
  const perControl = [...byControl].map(([c, n]) => `${c} ${n}`).join(', ');
  write(
    io.stdout,
    `\n${records.length} findings${perControl ? ` (${perControl})` : ''}; time to remediate: ${ttr.count === 0 ? 'no remediated finding' : `median ${duration(ttr.p50!)}, p90 ${duration(ttr.p90!)} over ${ttr.count}`}`,
  );
  return EXIT.ok;
}

export async function showFinding(id: string, options: FindingsOptions, io: CliIo, injected?: FindingsStore): Promise<number> {
  const findings = injected ?? (await store(options, io));
  if (typeof findings === 'number') return findings;
  let record: FindingRecord | undefined;
  try {
    record = await findings.get(id);
  } catch (error) {
    return reportAwsFailure(io, `read finding ${id}`, error);
  }
  if (!record) {
    write(io.stderr, `no finding ${id}`);
    return EXIT.notCompliant;
  }
  if (options.json) {
    write(io.stdout, JSON.stringify({ type: 'finding-record', ...record }));
    return EXIT.ok;
  }
  const f = record.finding;
  write(
    io.stdout,
    [
      `${record.id}  ${f.control}  ${f.resourceArn}`,
      `status ${record.status}${record.outcome ? ` (${record.outcome})` : ''}, opened ${record.openedAt}${record.closedAt ? `, closed ${record.closedAt}` : ''}, generation ${record.generation}`,
      `violation: ${f.violation}`,
      `observed: ${compact(f.observed)}`,
      `desired:  ${compact(f.desired)}`,
      `seen in ${f.eventName ?? 'event'} ${f.eventId}${f.actor?.arn ? ` by ${f.actor.arn}` : ''}${record.seenCount ? `, and ${record.seenCount} event(s) since` : ''}`,
      '',
      'history:',
      ...record.history.map((h) => `  ${h.at}  ${h.event}${h.by ? ` by ${h.by}` : ''}${h.detail ? `: ${h.detail}` : ''}`),
    ].join('\n'),
  );
  return EXIT.ok;
}
