import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { relayChannel, SETTLED_CHANNEL, SigningService, STORE, type Store } from '#domain';
import { NodeConnections } from '../nodes/node-connections.js';
import { InstanceRegistry } from './instance-registry.js';

/** Frames taken per round trip while draining. */
const DRAIN_BATCH = 200;

/**
 * Delivers what other instances relayed to this one's node connections: on a notification on this
 * instance's channel (InstanceRegistry LISTENs; a NOTIFY arrives when the sender's transaction commits) the queued rows are
 * taken (deleted) in id order and sent on the connections they were meant for. Every heartbeat drains
 * too, so a notification lost while the listener reconnected delays a frame, never loses it. Also
 * listens for requests settled elsewhere, to wake this instance's long-polls.
 *
 * On the embedded database there is only ever one instance: nothing is relayed and nothing listens.
 */
@Injectable()
export class FrameRelay implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(FrameRelay.name);
  private draining: Promise<void> | null = null;
  private again = false;
  private stopped = false;

  constructor(
    private readonly instance: InstanceRegistry,
    private readonly connections: NodeConnections,
    private readonly signing: SigningService,
    @Inject(STORE) private readonly store: Store,
  ) {}

  onModuleInit(): void {
    this.instance.onReregistered(() => this.connections.announceAll());
    if (!this.instance.shared) return;
    const own = relayChannel(this.instance.id);
    this.instance.onNotification((channel, payload) => {
      if (channel === own) this.drain();
      else if (channel === SETTLED_CHANNEL && payload) this.signing.notifySettled(payload);
    });
    this.instance.onBeat(() => this.drain());
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    await this.draining;
  }

  /** Takes and delivers every queued frame; a call while a drain runs makes it go round once more. */
  drain(): void {
    if (this.stopped) return;
    if (this.draining) {
      this.again = true;
      return;
    }
    this.draining = (async () => {
      do {
        this.again = false;
        for (;;) {
          const batch = await this.store.read.cluster.takeRelayed(this.instance.id, DRAIN_BATCH);
          for (const relayed of batch) this.connections.deliver(relayed);
          if (batch.length < DRAIN_BATCH) break;
        }
      } while (this.again && !this.stopped);
    })()
      .catch((e: unknown) => this.logger.warn(`relayed frames: ${(e as Error).message}`))
      .finally(() => {
        this.draining = null;
      });
  }
}
