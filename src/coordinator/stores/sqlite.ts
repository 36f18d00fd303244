// The embedded Store (the default): the SQL store on node:sqlite under the data directory.
import { SqlStore } from './sql-store.ts';
import { SqliteDriver } from './sqlite-driver.ts';

export class SqliteStore extends SqlStore {
  declare readonly db: SqliteDriver;

  constructor(dataDir: string) {
    super(new SqliteDriver(dataDir));
  }
}
