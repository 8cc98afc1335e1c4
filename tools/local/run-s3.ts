import S3rver from 's3rver';

/*
 * `npm run local:s3`: an S3 stand-in (s3rver, a dev dependency) on 127.0.0.1 for the archive
 * (docs/archive.md, "Try it locally"), with the bucket created, objects kept in a folder.
 * LOCAL_S3_PORT (default 4569), LOCAL_S3_DIR (default ./data-s3), ARCHIVE_BUCKET (default
 * ev-archive). It accepts any credentials; never expose it.
 */
const port = Number(process.env.LOCAL_S3_PORT ?? 4569);
const directory = process.env.LOCAL_S3_DIR ?? './data-s3';
const bucket = process.env.ARCHIVE_BUCKET ?? 'ev-archive';
const server = new S3rver({
  address: '127.0.0.1',
  port,
  directory,
  silent: true,
  configureBuckets: [{ name: bucket }],
});
const { port: bound } = await server.run();
process.stdout.write(
  `s3rver on http://127.0.0.1:${bound} (loopback only), bucket ${bucket}, objects in ${directory}. Ctrl-C stops it.\n` +
    `export ARCHIVE_BUCKET=${bucket} AWS_ENDPOINT_URL_S3=http://127.0.0.1:${bound} ` +
    `AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER\n`,
);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    void server.close().then(() => process.exit(0));
  });
}
