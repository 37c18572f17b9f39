import {
  ConfigServiceClient,
  DescribeConfigurationRecordersCommand,
  DescribeConfigurationRecorderStatusCommand,
  DescribeDeliveryChannelsCommand,
  InvalidRoleException,
  NoAvailableDeliveryChannelException,
  NoSuchConfigurationRecorderException,
  PutConfigurationRecorderCommand,
  PutDeliveryChannelCommand,
  StartConfigurationRecorderCommand,
  type ConfigurationRecorder,
  type DeliveryChannel,
} from '@aws-sdk/client-config-service';
import { mockClient } from 'aws-sdk-client-mock';
import type { FakeWorld } from './world';

/** One region's Config: its customer managed recorder (at most one, as in AWS), whether it records, its channels. */
export interface FakeRegionConfig {
  recorder?: ConfigurationRecorder;
  recording: boolean;
  channels: DeliveryChannel[];
}

/**
 * AWS Config recorders and delivery channels, per region, behind a mocked ConfigServiceClient.
 * Like Config: one customer managed recorder per region (PutConfigurationRecorder with another
 * name is refused), a recorder starts only with a delivery channel
 * (`NoAvailableDeliveryChannelException`), a role is required, and PutConfigurationRecorder
 * replaces the recorder without changing whether it records.
 */
export class FakeConfigService {
  readonly regions = new Map<string, FakeRegionConfig>();
  readonly mock = mockClient(ConfigServiceClient);

  /** The region's Config, made empty on first use. */
  region(name: string): FakeRegionConfig {
    let r = this.regions.get(name);
    if (!r) this.regions.set(name, (r = { recording: false, channels: [] }));
    return r;
  }

  constructor(world: FakeWorld) {
    const regionOf = async (getClient: () => ConfigServiceClient) => this.region(await getClient().config.region());
    const noRecorder = (name: string) =>
      new NoSuchConfigurationRecorderException({
        message: `Cannot find configuration recorder with the specified name '${name}'.`,
        $metadata: {},
      });

    this.mock.on(DescribeConfigurationRecordersCommand).callsFake(async (input: { ConfigurationRecorderNames?: string[] }, getClient) => {
      const r = await regionOf(getClient);
      const names = input.ConfigurationRecorderNames ?? [];
      for (const name of names) if (r.recorder?.name !== name) throw noRecorder(name);
      return { ConfigurationRecorders: r.recorder ? [structuredClone(r.recorder)] : [] };
    });
    this.mock
      .on(DescribeConfigurationRecorderStatusCommand)
      .callsFake(async (input: { ConfigurationRecorderNames?: string[] }, getClient) => {
        const r = await regionOf(getClient);
        for (const name of input.ConfigurationRecorderNames ?? []) if (r.recorder?.name !== name) throw noRecorder(name);
        return {
          ConfigurationRecordersStatus: r.recorder
            ? [{ name: r.recorder.name, arn: r.recorder.arn, recording: r.recording, lastStatus: 'SUCCESS' }]
            : [],
        };
      });
    this.mock.on(DescribeDeliveryChannelsCommand).callsFake(async (_input, getClient) => ({
      DeliveryChannels: structuredClone((await regionOf(getClient)).channels),
    }));
    this.mock.on(StartConfigurationRecorderCommand).callsFake(async (input: { ConfigurationRecorderName: string }, getClient) => {
      const r = await regionOf(getClient);
      if (r.recorder?.name !== input.ConfigurationRecorderName) throw noRecorder(input.ConfigurationRecorderName);
      if (r.channels.length === 0)
        throw new NoAvailableDeliveryChannelException({
          message: 'There is no delivery channel available to record configurations.',
          $metadata: {},
        });
      r.recording = true;
      world.writes.push(`StartConfigurationRecorder ${input.ConfigurationRecorderName}`);
      return {};
    });
    this.mock.on(PutConfigurationRecorderCommand).callsFake(async (input: { ConfigurationRecorder: ConfigurationRecorder }, getClient) => {
      const r = await regionOf(getClient);
      const next = input.ConfigurationRecorder;
      if (!next.roleARN) throw new InvalidRoleException({ message: 'roleARN is required', $metadata: {} });
      if (r.recorder && r.recorder.name !== next.name)
        throw new Error('MaxNumberOfConfigurationRecordersExceededException: one customer managed recorder per region');
      const region = await getClient().config.region();
      const account = next.roleARN.split(':')[4];
      r.recorder = {
        arn: r.recorder?.arn ?? `arn:aws:config:${region}:${account}:configuration-recorder/${next.name}/fakeid${r.channels.length}`,
        name: next.name,
        roleARN: next.roleARN,
        // Config's default when no group is sent: all supported types
        recordingGroup: structuredClone(next.recordingGroup ?? { allSupported: true, includeGlobalResourceTypes: false }),
        recordingMode: structuredClone(next.recordingMode ?? { recordingFrequency: 'CONTINUOUS', recordingModeOverrides: [] }),
      };
      world.writes.push(`PutConfigurationRecorder ${next.name}`);
      return {};
    });
    this.mock.on(PutDeliveryChannelCommand).callsFake(async (input: { DeliveryChannel: DeliveryChannel }, getClient) => {
      const r = await regionOf(getClient);
      r.channels = [structuredClone(input.DeliveryChannel)];
      world.writes.push(`PutDeliveryChannel ${input.DeliveryChannel.name}`);
      return {};
    });
  }
}
