// Versioned schema migrations for an account object's SQLite database. Each runs once, in
// order, inside one transaction with its `schema_migrations` row; an object woken on an old
// database is brought forward before it reads anything (tested from a v1 database).

export interface Migration {
  readonly version: number;
  readonly description: string;
  readonly sql: string;
}

export function migrate(storage: DurableObjectStorage, migrations: ReadonlyArray<Migration>): number {
  const sql = storage.sql;
  sql.exec("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at INTEGER NOT NULL)");
  const applied = new Set(sql.exec<{ version: number }>("SELECT version FROM schema_migrations").toArray().map((r) => r.version));
  let current = Math.max(0, ...applied);
  for (const m of migrations) {
    if (applied.has(m.version)) continue;
    storage.transactionSync(() => {
      sql.exec(m.sql);
      sql.exec("INSERT INTO schema_migrations (version, description, applied_at) VALUES (?, ?, ?)", m.version, m.description, Date.now());
    });
    current = m.version;
  }
  return current;
}

export const hasTable = (sql: SqlStorage, name: string): boolean =>
  sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", name).toArray().length > 0;
