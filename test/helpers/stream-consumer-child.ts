/**
 * `npm run consume` as a child process for the crash test, with two seams: it reports each
 * commit to the parent (IPC), and with CRASH_ON_COMMIT=n it SIGKILLs itself inside its n-th
 * commit's transaction, after the readings are written and before COMMIT.
 */
import { loadConfig } from '../../src/config/config.js';
import { createLogger } from '../../src/logger.js';
import { startConsumerProcess } from '../../src/runtime/consumer-process.js';

const crashOn = Number(process.env.CRASH_ON_COMMIT ?? 0);
let commits = 0;
const config = loadConfig(process.env);
const running = await startConsumerProcess(config, createLogger(config.logLevel), {
  hooks: {
    beforeCommit: () => {
      commits += 1;
      if (commits === crashOn) process.kill(process.pid, 'SIGKILL');
    },
    afterCommit: (shard, checkpoint, finished) => process.send?.({ type: 'committed', ...shard, checkpoint, finished }),
  },
});
process.on('message', (message: { type: string }) => {
  if (message.type === 'stop') void running.stop().then(() => process.exit(0));
});
process.send?.({ type: 'ready' });
