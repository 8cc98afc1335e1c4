// s3rver ships no types: the part the tests and tools/local/run-s3.ts use.
declare module 's3rver' {
  interface S3rverOptions {
    address?: string;
    port?: number;
    directory: string;
    silent?: boolean;
    /** Buckets created on run (existing ones are kept). */
    configureBuckets?: { name: string }[];
  }
  export default class S3rver {
    constructor(options: S3rverOptions);
    run(): Promise<{ address: string; port: number }>;
    close(): Promise<void>;
    /** S3 event notifications (s3rver is a Koa app): one per object created or deleted. */
    on(event: 'event', listener: (event: { Records: { eventName: string }[] }) => void): this;
  }
}
