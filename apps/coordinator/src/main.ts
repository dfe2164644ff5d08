import { ConfigError, loadConfig } from './config/coordinator-config.js';
import { startCoordinator } from './bootstrap.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(`roundtable coordinator: ${e.message}`);
      process.exit(2);
    }
    throw e;
  }
  const coordinator = await startCoordinator(config);
  console.error(`roundtable coordinator listening on ${coordinator.httpUrl} (nodes: ${coordinator.wsUrl})`);
  // Close cleanly (nodes told, timers stopped, database closed), then exit 0.
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    console.error(`roundtable coordinator: ${signal}, shutting down`);
    coordinator
      .close()
      .then(() => process.exit(0))
      .catch((e: unknown) => {
        console.error('roundtable coordinator: shutdown failed:', e);
        process.exit(1);
      });
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((e: unknown) => {
  console.error('roundtable coordinator failed to start:', e instanceof Error ? e.message : e);
  process.exit(1);
});
