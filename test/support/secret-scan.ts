import type { INestApplication } from '@nestjs/common';
import { DataSource } from 'typeorm';

/**
 * Reads every row of every table of the coordinator's database as JSON text and reports which tables
 * contain any of `secrets` (hex strings). The coordinator must never hold a secret share.
 */
export async function scanForSecrets(app: INestApplication, secrets: string[]): Promise<{ rows: number; tablesWithSecrets: string[] }> {
  const dataSource = app.get(DataSource);
  const tables = await dataSource.query<{ tablename: string }[]>(`SELECT tablename FROM pg_tables WHERE schemaname = 'public'`);
  let rows = 0;
  const tablesWithSecrets = new Set<string>();
  for (const { tablename } of tables) {
    const dump = await dataSource.query<{ row: string }[]>(`SELECT row_to_json(t)::text AS row FROM "${tablename}" t`);
    rows += dump.length;
    for (const { row } of dump) if (secrets.some((secret) => row.includes(secret))) tablesWithSecrets.add(tablename);
  }
  return { rows, tablesWithSecrets: [...tablesWithSecrets] };
}
