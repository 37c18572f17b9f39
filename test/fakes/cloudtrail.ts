import {
  CloudTrailClient,
  DescribeTrailsCommand,
  GetEventSelectorsCommand,
  GetTrailCommand,
  GetTrailStatusCommand,
  InvalidEventSelectorsException,
  InvalidHomeRegionException,
  ListTagsCommand,
  ListTrailsCommand,
  PutEventSelectorsCommand,
  StartLoggingCommand,
  TrailNotFoundException,
  UpdateTrailCommand,
  type AdvancedEventSelector,
  type EventSelector,
} from '@aws-sdk/client-cloudtrail';
import { mockClient } from 'aws-sdk-client-mock';
import type { FakeWorld } from './world';

/** A trail as CloudTrail keeps it; its ARN (the key) names its home region. */
export interface FakeTrail {
  isLogging: boolean;
  isMultiRegionTrail: boolean;
  logFileValidationEnabled: boolean;
  includeGlobalServiceEvents: boolean;
  kmsKeyId?: string;
  isOrganizationTrail?: boolean;
  /** A trail has basic or advanced selectors, never both (PutEventSelectors replaces the other form). */
  eventSelectors?: EventSelector[];
  advancedEventSelectors?: AdvancedEventSelector[];
  tags?: Record<string, string>;
}

/** What `get-event-selectors` returns for a trail nobody changed (CloudTrail user guide). */
export const DEFAULT_SELECTORS: EventSelector[] = [
  { ReadWriteType: 'All', IncludeManagementEvents: true, DataResources: [], ExcludeManagementEventSources: [] },
];

const homeOf = (arn: string) => arn.split(':')[3]!;
const nameOf = (arn: string) => arn.split(':trail/')[1]!;

/**
 * CloudTrail trails behind a mocked CloudTrailClient. Like CloudTrail, writes must be called in
 * the trail's home region (`InvalidHomeRegionException` otherwise), a trail is named by ARN or
 * by name in its home region, and a PutEventSelectors with both forms is refused.
 */
export class FakeCloudTrail {
  readonly trails = new Map<string, FakeTrail>();
  readonly mock = mockClient(CloudTrailClient);

  constructor(world: FakeWorld) {
    const find = async (name: string, getClient: () => CloudTrailClient, write: boolean): Promise<[string, FakeTrail]> => {
      const region = await getClient().config.region();
      const arn = name.startsWith('arn:') ? name : [...this.trails.keys()].find((a) => nameOf(a) === name && homeOf(a) === region);
      const trail = arn && this.trails.get(arn);
      if (!arn || !trail) throw new TrailNotFoundException({ message: `Unknown trail: ${name}`, $metadata: {} });
      if (write && homeOf(arn) !== region)
        throw new InvalidHomeRegionException({ message: `trail ${arn} is not in ${region}`, $metadata: {} });
      return [arn, trail];
    };
    this.mock.on(ListTrailsCommand).callsFake((input: { NextToken?: string }) => {
      const { items, next } = world.page([...this.trails.keys()].sort(), input.NextToken);
      return {
        Trails: items.map((TrailARN) => ({ TrailARN, Name: nameOf(TrailARN), HomeRegion: homeOf(TrailARN) })),
        ...(next ? { NextToken: next } : {}),
      };
    });
    // a region lists its own trails and, as shadow trails, the multi-region trails of other regions (includeShadowTrails, default true)
    this.mock.on(DescribeTrailsCommand).callsFake(async (input: { includeShadowTrails?: boolean }, getClient) => {
      const region = await getClient().config.region();
      const seen = [...this.trails.entries()].filter(
        ([arn, t]) => homeOf(arn) === region || (input.includeShadowTrails !== false && t.isMultiRegionTrail),
      );
      return {
        trailList: seen.map(([arn, t]) => ({
          Name: nameOf(arn),
          TrailARN: arn,
          HomeRegion: homeOf(arn),
          S3BucketName: 'audit-logs',
          IsMultiRegionTrail: t.isMultiRegionTrail,
          IsOrganizationTrail: t.isOrganizationTrail ?? false,
          LogFileValidationEnabled: t.logFileValidationEnabled,
          IncludeGlobalServiceEvents: t.includeGlobalServiceEvents,
        })),
      };
    });
    this.mock.on(GetTrailCommand).callsFake(async (input: { Name: string }, getClient) => {
      const [arn, t] = await find(input.Name, getClient, false);
      return {
        Trail: {
          Name: nameOf(arn),
          TrailARN: arn,
          HomeRegion: homeOf(arn),
          S3BucketName: 'audit-logs',
          IsMultiRegionTrail: t.isMultiRegionTrail,
          LogFileValidationEnabled: t.logFileValidationEnabled,
          IncludeGlobalServiceEvents: t.includeGlobalServiceEvents,
          IsOrganizationTrail: t.isOrganizationTrail ?? false,
          HasCustomEventSelectors: t.eventSelectors !== undefined || t.advancedEventSelectors !== undefined,
          ...(t.kmsKeyId ? { KmsKeyId: t.kmsKeyId } : {}),
        },
      };
    });
    this.mock
      .on(GetTrailStatusCommand)
      .callsFake(async (input: { Name: string }, getClient) => ({ IsLogging: (await find(input.Name, getClient, false))[1].isLogging }));
    this.mock.on(GetEventSelectorsCommand).callsFake(async (input: { TrailName: string }, getClient) => {
      const [arn, t] = await find(input.TrailName, getClient, false);
      return t.advancedEventSelectors
        ? { TrailARN: arn, AdvancedEventSelectors: structuredClone(t.advancedEventSelectors) }
        : { TrailARN: arn, EventSelectors: structuredClone(t.eventSelectors ?? DEFAULT_SELECTORS) };
    });
    this.mock.on(ListTagsCommand).callsFake((input: { ResourceIdList: string[] }) => ({
      ResourceTagList: input.ResourceIdList.filter((arn) => this.trails.has(arn)).map((arn) => ({
        ResourceId: arn,
        TagsList: Object.entries(this.trails.get(arn)!.tags ?? {}).map(([Key, Value]) => ({ Key, Value })),
      })),
    }));
    this.mock.on(StartLoggingCommand).callsFake(async (input: { Name: string }, getClient) => {
      const [arn, t] = await find(input.Name, getClient, true);
      t.isLogging = true;
      world.writes.push(`StartLogging ${arn}`);
      return {};
    });
    this.mock.on(UpdateTrailCommand).callsFake(async (input: Record<string, unknown> & { Name: string }, getClient) => {
      const [arn, t] = await find(input.Name, getClient, true);
      if (typeof input.IsMultiRegionTrail === 'boolean') t.isMultiRegionTrail = input.IsMultiRegionTrail;
      if (typeof input.EnableLogFileValidation === 'boolean') t.logFileValidationEnabled = input.EnableLogFileValidation;
      if (typeof input.IncludeGlobalServiceEvents === 'boolean') t.includeGlobalServiceEvents = input.IncludeGlobalServiceEvents;
      if (typeof input.KmsKeyId === 'string') t.kmsKeyId = input.KmsKeyId === '' ? undefined : input.KmsKeyId;
      world.writes.push(
        `UpdateTrail ${arn} ${Object.keys(input)
          .filter((k) => k !== 'Name')
          .sort()
          .join(',')}`,
      );
      return {
        TrailARN: arn,
        Name: nameOf(arn),
        LogFileValidationEnabled: t.logFileValidationEnabled,
        IsMultiRegionTrail: t.isMultiRegionTrail,
      };
    });
    this.mock
      .on(PutEventSelectorsCommand)
      .callsFake(
        async (
          input: { TrailName: string; EventSelectors?: EventSelector[]; AdvancedEventSelectors?: AdvancedEventSelector[] },
          getClient,
        ) => {
          const [arn, t] = await find(input.TrailName, getClient, true);
          if (input.EventSelectors && input.AdvancedEventSelectors) {
            throw new InvalidEventSelectorsException({
              message: 'use either EventSelectors or AdvancedEventSelectors, not both',
              $metadata: {},
            });
          }
          t.eventSelectors = input.EventSelectors && structuredClone(input.EventSelectors);
          t.advancedEventSelectors = input.AdvancedEventSelectors && structuredClone(input.AdvancedEventSelectors);
          world.writes.push(`PutEventSelectors ${arn}`);
          return { TrailARN: arn, EventSelectors: input.EventSelectors, AdvancedEventSelectors: input.AdvancedEventSelectors };
        },
      );
  }
}
