import { DataSource, type EntitySubscriberInterface } from 'typeorm';

/** Anything that hands out the app's DataSource (a Nest application or testing module). */
interface HasDataSource {
  get(token: typeof DataSource): DataSource;
}

/**
 * Counts the SQL statements the app's database runs while `work` runs (a BeforeQuery subscriber on its
 * DataSource), for tests that a read costs a constant number of queries. Everything the app does in the
 * meantime counts too: measure while nothing else is going on.
 */
export async function countQueries<T>(app: HasDataSource, work: () => Promise<T>): Promise<{ result: T; queries: number }> {
  const dataSource = app.get(DataSource);
  let queries = 0;
  const counter: EntitySubscriberInterface = {
    beforeQuery: () => {
      queries++;
    },
  };
  dataSource.subscribers.push(counter);
  try {
    const result = await work();
    return { result, queries };
  } finally {
    dataSource.subscribers.splice(dataSource.subscribers.indexOf(counter), 1);
  }
}
