import { PutRecordsCommand, type KinesisClient, type PutRecordsRequestEntry } from '@aws-sdk/client-kinesis';

import type { MeterPayload, VehiclePayload } from './fleet-model.js';

/** PutRecords takes at most 500 records a call. */
const RECORDS_PER_CALL = 500;

export interface KinesisSinkOptions {
  client: KinesisClient;
  meterStream: string;
  vehicleStream: string;
  /** Readings per record at most (one device per record; 1 = as a device sends them). */
  readingsPerRecord: number;
}

/**
 * Puts readings on the streams the consumer reads, as devices or a gateway would: one
 * record per device and batch (a JSON array, or the reading itself), partitioned by device
 * id, so each device's readings stay in order on one shard. Records the stream refuses
 * (throttling) are put again with a backoff.
 */
export class KinesisSink {
  constructor(private readonly options: KinesisSinkOptions) {}

  async put(kind: 'meter' | 'vehicle', readings: MeterPayload[] | VehiclePayload[]): Promise<void> {
    const byDevice = new Map<string, (MeterPayload | VehiclePayload)[]>();
    for (const reading of readings) {
      const id = 'meterId' in reading ? reading.meterId : reading.vehicleId;
      byDevice.set(id, [...(byDevice.get(id) ?? []), reading]);
    }
    const entries: PutRecordsRequestEntry[] = [];
    for (const [device, own] of byDevice) {
      for (let i = 0; i < own.length; i += this.options.readingsPerRecord) {
        const chunk = own.slice(i, i + this.options.readingsPerRecord);
        entries.push({
          PartitionKey: device,
          Data: Buffer.from(JSON.stringify(chunk.length === 1 ? chunk[0] : chunk)),
        });
      }
    }
    const stream = kind === 'meter' ? this.options.meterStream : this.options.vehicleStream;
    for (let i = 0; i < entries.length; i += RECORDS_PER_CALL) {
      await this.putAll(stream, entries.slice(i, i + RECORDS_PER_CALL));
    }
  }

  private async putAll(stream: string, entries: PutRecordsRequestEntry[]): Promise<void> {
    let pending = entries;
    for (let attempt = 0; pending.length > 0; attempt += 1) {
      if (attempt > 0) await new Promise((done) => setTimeout(done, Math.min(100 * 2 ** attempt, 5_000)));
      try {
        const result = await this.options.client.send(new PutRecordsCommand({ StreamName: stream, Records: pending }));
        pending = pending.filter((_, index) => result.Records?.[index]?.ErrorCode !== undefined);
      } catch (error) {
        if (attempt >= 20) throw error;
      }
      if (attempt >= 20 && pending.length > 0) throw new Error(`${pending.length} records were not put on ${stream}`);
    }
  }
}
