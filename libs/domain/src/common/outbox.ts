import type { CoordinatorFrame, Outgoing } from '#protocol';
import type { KeyedMutex } from './keyed-mutex.js';
import type { NodeLink } from './tokens.js';

/** Frames to send once the transaction that decided them has committed. */
export type Outbox = [nodeId: string, frame: Outgoing<CoordinatorFrame>][];

/** Runs `work` under `key`'s mutex, then sends the frames it decided: never before its state committed. */
export async function runThenSend<T>(mutex: KeyedMutex, link: NodeLink, key: string, work: (out: Outbox) => Promise<T>): Promise<T> {
  const out: Outbox = [];
  const result = await mutex.run(key, () => work(out));
  for (const [nodeId, frame] of out) link.send(nodeId, frame);
  return result;
}
