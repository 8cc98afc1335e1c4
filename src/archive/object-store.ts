import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

import {
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  NotFound,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';

export interface ObjectInfo {
  bytes: number;
  /** The SHA-256 (hex) the uploader recorded in the object's metadata, if any. */
  sha256: string | undefined;
}

/**
 * The few object-store operations the archive needs. Behind an interface so tests can wrap the
 * real client to inject failures (an upload that breaks half-way, a corrupted read-back).
 */
export interface ObjectStore {
  /** Writes the file at `key` (replacing any object there) with its checksums; `signal` abandons it. */
  put(key: string, filename: string, checksums: FileChecksums, signal?: AbortSignal): Promise<void>;
  /** Downloads the object at `key` into `filename`. */
  get(key: string, filename: string): Promise<void>;
  /** The object's size and recorded checksum; undefined when there is none. */
  head(key: string): Promise<ObjectInfo | undefined>;
  /** Keys under a prefix (tests and the CLI). */
  list(prefix: string): Promise<string[]>;
}

export interface FileChecksums {
  sha256: string;
  md5Base64: string;
  bytes: number;
}

/** SHA-256 (hex), MD5 (base64, for Content-MD5) and size of a file, streamed. */
export async function fileChecksums(filename: string): Promise<FileChecksums> {
  const sha256 = createHash('sha256');
  const md5 = createHash('md5');
  for await (const chunk of createReadStream(filename)) {
    sha256.update(chunk as Buffer);
    md5.update(chunk as Buffer);
  }
  return { sha256: sha256.digest('hex'), md5Base64: md5.digest('base64'), bytes: (await stat(filename)).size };
}

export interface S3Settings {
  bucket: string;
  region: string;
  /** Unset: AWS itself. Set (MinIO, s3rver, ...): path-style addressing. */
  endpoint: string | undefined;
  /** Unset: the SDK's default chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, profiles, roles). */
  credentials: { accessKeyId: string; secretAccessKey: string } | undefined;
}

/**
 * S3 (or a compatible store). Uploads send Content-MD5, which S3 and MinIO check before they
 * store the object, and record the SHA-256 in the object's metadata; the archive job then reads
 * every object back and compares it byte for byte (by SHA-256) and row for row (summaries), so
 * nothing depends on a store's own checks. For other endpoints the SDK's default CRC32 headers
 * are turned off (WHEN_REQUIRED): stand-ins like s3rver reject them.
 */
export class S3ObjectStore implements ObjectStore {
  private readonly client: S3Client;

  constructor(private readonly settings: S3Settings) {
    this.client = new S3Client({
      region: settings.region,
      ...(settings.endpoint
        ? {
            endpoint: settings.endpoint,
            forcePathStyle: true,
            requestChecksumCalculation: 'WHEN_REQUIRED' as const,
            responseChecksumValidation: 'WHEN_REQUIRED' as const,
          }
        : {}),
      ...(settings.credentials ? { credentials: settings.credentials } : {}),
    });
  }

  async put(key: string, filename: string, checksums: FileChecksums, signal?: AbortSignal): Promise<void> {
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.settings.bucket,
        Key: key,
        Body: createReadStream(filename),
        ContentLength: checksums.bytes,
        ContentMD5: checksums.md5Base64,
        ContentType: 'application/vnd.apache.parquet',
        Metadata: { sha256: checksums.sha256 },
      }),
      signal ? { abortSignal: signal } : {},
    );
  }

  async get(key: string, filename: string): Promise<void> {
    const response = await this.client.send(new GetObjectCommand({ Bucket: this.settings.bucket, Key: key }));
    if (!(response.Body instanceof Readable)) throw new Error(`no body for ${key}`);
    await pipeline(response.Body, createWriteStream(filename));
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    try {
      const response = await this.client.send(new HeadObjectCommand({ Bucket: this.settings.bucket, Key: key }));
      return { bytes: response.ContentLength ?? 0, sha256: response.Metadata?.sha256 };
    } catch (error) {
      if (error instanceof NotFound || error instanceof NoSuchKey) return undefined;
      throw error;
    }
  }

  async list(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({ Bucket: this.settings.bucket, Prefix: prefix, ContinuationToken: token }),
      );
      for (const object of page.Contents ?? []) if (object.Key) keys.push(object.Key);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return keys;
  }

  destroy(): void {
    this.client.destroy();
  }
}
