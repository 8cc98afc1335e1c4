import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';

export interface TestS3 {
  endpoint: string;
  bucket: string;
  /** The environment a service needs to archive there. */
  env: Record<string, string>;
  /** Calls `listener` each time an object has been written (a PUT completed). */
  onPut(listener: () => void): void;
  stop(): Promise<void>;
}

/** An S3-compatible server in this process (s3rver), on a free port, storing in a temporary folder. */
export async function startTestS3(bucket = 'ev-archive-test'): Promise<TestS3> {
  const directory = await mkdtemp(join(tmpdir(), 'ev-s3-'));
  const server = new S3rver({ address: '127.0.0.1', port: 0, directory, silent: true });
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  const credentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
  const client = new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  client.destroy();
  return {
    endpoint,
    bucket,
    env: {
      ARCHIVE_BUCKET: bucket,
      AWS_ENDPOINT_URL_S3: endpoint,
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    },
    onPut: (listener) =>
      server.on('event', (event) => {
        if (event.Records.some((record) => record.eventName.startsWith('ObjectCreated'))) listener();
      }),
    stop: async () => {
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
