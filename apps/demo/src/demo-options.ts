/** The demo's command line: `npm run demo -- --keep-running`. */
export interface DemoOptions {
  /** After the flows, keep the cluster up (for the console) until SIGINT or SIGTERM. */
  keepRunning: boolean;
}

/** Parses the demo's arguments; anything but the known flags is an error naming them. */
export function parseDemoArgs(args: readonly string[]): DemoOptions {
  const unknown = args.filter((a) => a !== '--keep-running');
  if (unknown.length > 0) throw new Error(`unknown argument ${unknown.join(' ')} (the demo takes only --keep-running)`);
  return { keepRunning: args.includes('--keep-running') };
}

/** Resolves with the first of SIGINT or SIGTERM the process receives (its handlers removed again). */
export function untilStopSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const handlers = (['SIGINT', 'SIGTERM'] as const).map((signal) => [signal, () => done(signal)] as const);
    const done = (signal: NodeJS.Signals) => {
      for (const [s, h] of handlers) process.off(s, h);
      resolve(signal);
    };
    for (const [s, h] of handlers) process.on(s, h);
  });
}
