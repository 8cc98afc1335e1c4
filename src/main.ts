import { ConfigError, loadConfig } from './config/config.js';
import { createLoggerFromConfig } from './logger.js';
import { startService } from './service.js';

/** Entry point: parse the environment once, start, and stop gracefully on SIGINT/SIGTERM. */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const logger = createLoggerFromConfig(config);
  process.on('uncaughtException', (error) => {
    // postgres.js 3.4.9 can throw from a deferred socket write after the database went
    // away (porsager/postgres#1208); the query itself is rejected as CONNECTION_CLOSED.
    if (
      error instanceof TypeError &&
      /nextWrite/.test(error.stack ?? '') &&
      /postgres\/src\/connection/.test(error.stack ?? '')
    ) {
      logger.error('database driver write after close (ignored)', { err: error });
      return;
    }
    logger.fatal('uncaught exception', { err: error });
    process.exit(1);
  });
  const service = await startService(config, logger);
  logger.info('listening', { url: service.url, database: config.database.url ? 'external' : 'embedded' });

  let signalled = false;
  const shutdown = (signal: string) => {
    if (signalled) return;
    signalled = true;
    logger.info('shutting down', { signal });
    service.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error('shutdown failed', { err: error });
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

main().catch((error: unknown) => {
  process.stderr.write(`start-up failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
