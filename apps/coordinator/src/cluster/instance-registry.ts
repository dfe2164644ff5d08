import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { instanceLockSql, relayChannel, SETTLED_CHANNEL, STORE, type InstanceRecord, type Store } from '#domain';
import { listenForNotifications, type NotificationListener } from '#persistence';
import { COORDINATOR_CONFIG, type CoordinatorConfig } from '../config/coordinator-config.js';

/**
 * This process as one coordinator instance among several on one PostgreSQL (coordinator_instances,
 * migration 0014). It registers at start, before anything else uses the database for requests, and
 * learns who else is alive then (the boot recovery of requests runs only when nobody is); it refreshes
 * its heartbeat every INSTANCE_HEARTBEAT_MS, deletes instances that are gone (with their presence rows
 * and undelivered frames), and removes itself at shutdown.
 *
 * An instance is gone when its heartbeat is older than INSTANCE_TTL_MS, or at once when its liveness
 * lock is free: each instance holds a session-level advisory lock on the connection it LISTENs on
 * (channels: its relayed frames, and requests settled anywhere), which PostgreSQL releases the moment
 * the process dies. So a coordinator killed and restarted within the TTL still recovers its requests.
 *
 * On the embedded database only one process can be open at all (its directory lock), so any other row
 * is a process that is gone, and it is deleted at once.
 */
@Injectable()
export class InstanceRegistry implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(InstanceRegistry.name);
  /** Hex: it names a NOTIFY channel. */
  readonly id = randomBytes(8).toString('hex');
  private othersAtStart: InstanceRecord[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly beatListeners: (() => void)[] = [];
  private readonly lostListeners: (() => Promise<void>)[] = [];
  private readonly notificationListeners: ((channel: string, payload: string) => void)[] = [];
  private listener: NotificationListener | undefined;

  constructor(
    @Inject(STORE) private readonly store: Store,
    @Inject(COORDINATOR_CONFIG) private readonly config: CoordinatorConfig,
  ) {}

  /** Whether this instance shares its database with other live instances (then PostgreSQL: embedded has one). */
  get shared(): boolean {
    return this.config.databaseUrl !== undefined;
  }

  /** The instances that were alive when this one registered. */
  get othersAtBoot(): readonly InstanceRecord[] {
    return this.othersAtStart;
  }

  /** Presence on an instance whose heartbeat is not after this counts as gone. */
  liveSince(): Date {
    return new Date(Date.now() - this.config.instanceTtlMs);
  }

  /** Runs after every heartbeat (the relay catches up on frames whose notification it missed). */
  onBeat(listener: () => void): void {
    this.beatListeners.push(listener);
  }

  /** Notifications on this instance's relay channel and on SETTLED_CHANNEL (PostgreSQL only); after a reconnect, one on the relay channel (catch up). */
  onNotification(listener: (channel: string, payload: string) => void): void {
    this.notificationListeners.push(listener);
  }

  /** Runs when this instance finds its row gone (it was taken for dead) and has registered again. */
  onReregistered(listener: () => Promise<void>): void {
    this.lostListeners.push(listener);
  }

  async onModuleInit(): Promise<void> {
    if (!this.shared) await this.store.read.cluster.reap(new Date(Date.now() + 86_400_000));
    else await this.listen();
    this.othersAtStart = await this.store.read.cluster.register(this.record(), this.liveSince(), this.shared);
    if (this.othersAtStart.length > 0) {
      this.logger.log(`instance ${this.id} joins ${this.othersAtStart.length} other live instance(s): ${this.othersAtStart.map((i) => `${i.id} (pid ${i.pid} on ${i.host})`).join(', ')}`);
    }
    this.timer = setInterval(() => void this.beat(), this.config.instanceHeartbeatMs);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.listener?.close();
    await this.store.read.cluster.remove(this.id).catch((e: unknown) => this.logger.warn(`could not remove instance ${this.id}: ${(e as Error).message}`));
  }

  /** One heartbeat: refresh, re-register if taken for dead, delete the dead. */
  async beat(): Promise<void> {
    try {
      const cluster = this.store.read.cluster;
      if (!(await cluster.heartbeat(this.id, new Date()))) {
        this.logger.warn(`instance ${this.id} was taken for dead (no heartbeat for INSTANCE_TTL_MS); registering again`);
        await cluster.register(this.record(), this.liveSince(), this.shared);
        for (const l of this.lostListeners) await l();
      }
      const reaped = await cluster.reap(this.liveSince(), this.shared);
      if (reaped.length > 0) this.logger.log(`deleted ${reaped.length} instance(s) gone silent: ${reaped.join(', ')}`);
    } catch (e) {
      this.logger.warn(`instance heartbeat: ${(e as Error).message}`);
    }
    for (const l of this.beatListeners) l();
  }

  /** The listening connection, which also holds this instance's liveness lock. */
  private async listen(): Promise<void> {
    this.listener = await listenForNotifications({
      databaseUrl: this.config.databaseUrl!,
      channels: [relayChannel(this.id), SETTLED_CHANNEL],
      setup: async (query) => {
        await query(`SELECT pg_advisory_lock(${instanceLockSql('$1')})`, [this.id]);
      },
      onNotification: (channel, payload) => {
        for (const l of this.notificationListeners) l(channel, payload);
      },
      onListening: () => {
        for (const l of this.notificationListeners) l(relayChannel(this.id), '');
      },
      log: (m) => this.logger.warn(m),
    });
  }

  private record(): InstanceRecord {
    const now = new Date();
    return { id: this.id, pid: process.pid, host: hostname(), startedAt: now, heartbeatAt: now };
  }
}
