/** Stream ingestion settings (src/streams), parsed from the KINESIS_* variables by config.ts. */
export interface KinesisConfig {
  /** The streams to consume and the kind of readings each carries. */
  streams: { name: string; kind: 'meter' | 'vehicle' }[];
  /** Whether the API service runs the consumer too (else only `npm run consume` does). */
  inService: boolean;
  /** Unset: the SDK's default (AWS_REGION and its config files). */
  region: string | undefined;
  /** Unset: the AWS endpoint of the region. */
  endpoint: string | undefined;
  /** Names this consumer in the lease table; unset: host, process id and a random suffix. */
  consumerId: string | undefined;
  leaseDurationMs: number;
  /** Wait after a read that returned nothing (Kinesis allows 5 reads a second per shard). */
  pollIntervalMs: number;
  /** Records per GetRecords call. */
  maxRecords: number;
  /** Where a shard without a checkpoint is read from. */
  initialPosition: 'TRIM_HORIZON' | 'LATEST';
}
