/**
 * Holds the lock of the store directory given as argument, as another process would, until killed
 * (tests of the one-process-per-store rule run it with vite-node: see holdStoreLockInChild).
 */
import { acquireStoreLock } from '../store-lock.js';

const dir = process.argv[2];
if (!dir) throw new Error('usage: hold-store-lock <dir>');
await acquireStoreLock(dir, {
  what: 'store',
  onLost: (error) => {
    console.error(error.message);
    process.exit(9);
  },
});
console.log(`locked ${process.pid}`);
setInterval(() => undefined, 60_000);
