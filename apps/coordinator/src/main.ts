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
  coordinator.app.enableShutdownHooks();
  console.error(`roundtable coordinator listening on ${coordinator.httpUrl} (nodes: ${coordinator.wsUrl})`);
}

main().catch((e: unknown) => {
  console.error('roundtable coordinator failed to start:', e instanceof Error ? e.message : e);
  process.exit(1);
});
