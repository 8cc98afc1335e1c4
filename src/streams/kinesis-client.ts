import { Agent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';

import { KinesisClient, ListShardsCommand } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';

import type { KinesisConfig } from '../config/config.js';

/**
 * A Kinesis client over HTTP/1.1. The SDK's Kinesis client otherwise negotiates HTTP/2, which
 * plain-HTTP emulators (kinesis-local, kinesalite) do not speak; the polling API used here
 * (ListShards, GetShardIterator, GetRecords) works the same over HTTP/1.1 on AWS.
 * Credentials come from the SDK's default chain (environment, profile, instance role).
 */
export function createKinesisClient(
  config: Pick<KinesisConfig, 'region' | 'endpoint'>,
  credentials?: { accessKeyId: string; secretAccessKey: string },
): KinesisClient {
  return new KinesisClient({
    ...(config.region !== undefined ? { region: config.region } : {}),
    ...(config.endpoint !== undefined ? { endpoint: config.endpoint } : {}),
    ...(credentials ? { credentials } : {}),
    requestHandler: new NodeHttpHandler({
      httpAgent: new Agent({ keepAlive: true }),
      httpsAgent: new HttpsAgent({ keepAlive: true }),
      connectionTimeout: 5_000,
      requestTimeout: 30_000,
    }),
    // The consumer retries with its own backoff, from its checkpoint.
    maxAttempts: 2,
  });
}

/** How the consumer reacts to a failed Kinesis call. */
export type KinesisFailure = 'throttled' | 'expired_iterator' | 'missing' | 'other';

export function classifyKinesisError(error: unknown): KinesisFailure {
  const name = error instanceof Error ? error.name : '';
  if (name === 'ProvisionedThroughputExceededException' || name === 'LimitExceededException') return 'throttled';
  if (name === 'ExpiredIteratorException') return 'expired_iterator';
  if (name === 'ResourceNotFoundException') return 'missing';
  return 'other';
}

/** Every shard of a stream, open or closed, with its parents (a split's one, a merge's two), page by page. */
export async function listShards(
  kinesis: KinesisClient,
  streamName: string,
): Promise<{ shardId: string; parentShardIds: string[] }[]> {
  const shards: { shardId: string; parentShardIds: string[] }[] = [];
  let nextToken: string | undefined;
  do {
    const page = await kinesis.send(
      new ListShardsCommand(nextToken ? { NextToken: nextToken } : { StreamName: streamName }),
    );
    for (const shard of page.Shards ?? []) {
      shards.push({
        shardId: shard.ShardId!,
        parentShardIds: [shard.ParentShardId, shard.AdjacentParentShardId].filter((id) => id !== undefined),
      });
    }
    nextToken = page.NextToken;
  } while (nextToken);
  return shards;
}
