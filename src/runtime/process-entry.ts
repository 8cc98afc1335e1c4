import { ConfigError, loadConfig, type Config } from '../config/config.js';
import { DataDirInUseError } from '../embedded/data-dir-lock.js';
import { createLoggerFromConfig, type Logger } from '../logger.js';

/**
 * What the process entry points (`npm start`, `npm run consume`) share: parse the environment
 * once (a bad one exits 2 with the message naming the variable), start, and stop gracefully
 * on the first SIGINT/SIGTERM (exit 0, or 1 when the stop fails). A failure to start exits 1
 * (a data folder another process holds: with just the message naming that process),
 * an uncaught exception too (but for one known harmless driver error).
 */
export function runProcess(start: (config: Config, logger: Logger) => Promise<{ stop(): Promise<void> }>): void {
  const main = async () => {
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
    let running;
    try {
      running = await start(config, logger);
    } catch (error) {
      // A setting only the started part checks (e.g. the streams of a consumer).
      if (error instanceof ConfigError) {
        process.stderr.write(`${error.message}\n`);
        process.exit(2);
      }
      throw error;
    }
    let signalled = false;
    const shutdown = (signal: string) => {
      if (signalled) return;
      signalled = true;
      logger.info('shutting down', { signal });
      running.stop().then(
        () => process.exit(0),
        (error: unknown) => {
          logger.error('shutdown failed', { err: error });
          process.exit(1);
        },
      );
    };
    process.on('SIGINT', () => shutdown('SIGINT'));
    process.on('SIGTERM', () => shutdown('SIGTERM'));
  };
  main().catch((error: unknown) => {
    // Another process has the embedded data folder: the message says which; no stack.
    if (error instanceof DataDirInUseError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    process.stderr.write(
      `start-up failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  });
}
