import { IsNull, LessThan, type EntityManager } from 'typeorm';
import type { ConsoleSessionRecord, ConsoleSessionRepository } from '#domain';
import { ConsoleSessionEntity } from '../entities/console-session.entity.js';

export class TypeOrmConsoleSessionRepository implements ConsoleSessionRepository {
  constructor(private readonly manager: EntityManager) {}

  async insert(session: ConsoleSessionRecord): Promise<void> {
    await this.manager.insert(ConsoleSessionEntity, session);
  }

  async findById(id: string): Promise<ConsoleSessionRecord | null> {
    return /^[0-9a-f]{64}$/.test(id) ? this.manager.findOneBy(ConsoleSessionEntity, { id }) : null;
  }

  async end(id: string, at: Date): Promise<boolean> {
    const result = await this.manager.update(ConsoleSessionEntity, { id, endedAt: IsNull() }, { endedAt: at });
    return (result.affected ?? 0) > 0;
  }

  async deleteExpired(before: Date): Promise<number> {
    return (await this.manager.delete(ConsoleSessionEntity, { expiresAt: LessThan(before) })).affected ?? 0;
  }
}
