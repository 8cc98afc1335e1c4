import { startConsumerProcess } from './consumer-process.js';
import { runProcess } from './process-entry.js';

/** `npm run consume`: the stream consumer alone; stops gracefully on SIGINT/SIGTERM. */
runProcess(async (config, logger) => {
  const running = await startConsumerProcess(config, logger);
  logger.info('stream consumer listening', { url: running.url, consumerId: running.consumer.id });
  return running;
});
