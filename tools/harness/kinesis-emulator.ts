import type { ChildProcess } from 'node:child_process';

import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  ListShardsCommand,
  ListStreamsCommand,
  PutRecordsCommand,
  SplitShardCommand,
  type KinesisClient,
} from '@aws-sdk/client-kinesis';

import { createKinesisClient } from '../../src/streams/kinesis-client.js';
import { spawnKinesisLocal } from '../../tools/local/kinesis-local.js';
import { freePort } from '../../tools/net/free-port.js';

/** Any credentials do for the emulator; the SDK insists on some. */
export const EMULATOR_CREDENTIALS = { accessKeyId: 'test-access-key', secretAccessKey: 'test-secret-key' };
export const EMULATOR_REGION = 'us-east-1';

export interface PutRecord {
  sequenceNumber: string;
  shardId: string;
}

export interface KinesisEmulator {
  endpoint: string;
  client: KinesisClient;
  /** Kills the emulator (SIGKILL) and starts it again on the same port (and persisted data, if any). */
  restart(): Promise<void>;
  kill(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Creates a stream and waits until it is ACTIVE. */
  createStream(name: string, shards: number): Promise<void>;
  /** Puts records (objects are sent as JSON, strings and buffers as they are); returns where each went. */
  put(stream: string, records: { data: unknown; partitionKey: string }[]): Promise<PutRecord[]>;
  /** Splits a shard in the middle of its hash range and waits until the stream is ACTIVE again. */
  split(stream: string, shardId: string): Promise<void>;
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/**
 * kinesis-local (the kinesis-mock server compiled to JavaScript) in a child process, as
 * `npm run local:kinesis` runs it (on 127.0.0.1 only), on free ports; `persistDir` keeps its data across
 * restarts (written every 200 ms).
 */
export async function startKinesisEmulator(options: { persistDir?: string } = {}): Promise<KinesisEmulator> {
  const plainPort = await freePort();
  const tlsPort = await freePort();
  const endpoint = `http://127.0.0.1:${plainPort}`;
  const client = createKinesisClient({ endpoint, region: EMULATOR_REGION }, EMULATOR_CREDENTIALS);
  let child: ChildProcess | undefined;
  let output = '';

  const start = async () => {
    output = '';
    child = spawnKinesisLocal({
      KINESIS_MOCK_PLAIN_PORT: String(plainPort),
      KINESIS_MOCK_TLS_PORT: String(tlsPort),
      LOG_LEVEL: 'ERROR',
      CREATE_STREAM_DURATION: '100ms',
      SPLIT_SHARD_DURATION: '100ms',
      ...(options.persistDir
        ? { SHOULD_PERSIST_DATA: 'true', PERSIST_PATH: options.persistDir, PERSIST_INTERVAL: '200ms' }
        : {}),
    });
    // Keep the tail of its output for a failure message; it logs stack traces for bad requests.
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-4000);
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        await client.send(new ListStreamsCommand({}));
        return;
      } catch (error) {
        if (child.exitCode !== null) throw new Error(`kinesis-local exited: ${output}`, { cause: error });
        if (Date.now() > deadline) throw new Error(`kinesis-local did not start\n${output}`, { cause: error });
        await sleep(200);
      }
    }
  };

  const kill = async () => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null) return;
    const exited = new Promise((done) => running.once('exit', done));
    running.kill('SIGKILL');
    await exited;
  };

  const waitActive = async (stream: string) => {
    for (;;) {
      const summary = await client.send(new DescribeStreamSummaryCommand({ StreamName: stream }));
      if (summary.StreamDescriptionSummary?.StreamStatus === 'ACTIVE') return;
      await sleep(50);
    }
  };

  await start();
  return {
    endpoint,
    client,
    start,
    kill,
    restart: async () => {
      await kill();
      await start();
    },
    stop: async () => {
      await kill();
      client.destroy();
    },
    createStream: async (name, shards) => {
      await client.send(new CreateStreamCommand({ StreamName: name, ShardCount: shards }));
      await waitActive(name);
    },
    put: async (stream, records) => {
      const result = await client.send(
        new PutRecordsCommand({
          StreamName: stream,
          Records: records.map((r) => ({
            PartitionKey: r.partitionKey,
            Data:
              r.data instanceof Uint8Array
                ? r.data
                : Buffer.from(typeof r.data === 'string' ? r.data : JSON.stringify(r.data)),
          })),
        }),
      );
      if (result.FailedRecordCount) throw new Error(`${result.FailedRecordCount} records were not put`);
      return result.Records!.map((r) => ({ sequenceNumber: r.SequenceNumber!, shardId: r.ShardId! }));
    },
    split: async (stream, shardId) => {
      const shards = await client.send(new ListShardsCommand({ StreamName: stream }));
      const shard = shards.Shards!.find((s) => s.ShardId === shardId)!;
      const from = BigInt(shard.HashKeyRange!.StartingHashKey!);
      const to = BigInt(shard.HashKeyRange!.EndingHashKey!);
      await client.send(
        new SplitShardCommand({
          StreamName: stream,
          ShardToSplit: shardId,
          NewStartingHashKey: ((from + to) / 2n).toString(),
        }),
      );
      await sleep(50);
      await waitActive(stream);
    },
  };
}
