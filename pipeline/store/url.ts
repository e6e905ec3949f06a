// Which database a URL names: `postgres://…` / `postgresql://…` is PostgreSQL; anything else (a
// path, `sqlite:<path>`) is a SQLite file.

export type DatabaseKind = 'sqlite' | 'postgres';

export function databaseKind(url: string): DatabaseKind {
  return /^postgres(?:ql)?:\/\//i.test(url) ? 'postgres' : 'sqlite';
}

/** `sqlite:/a/b.db` and `/a/b.db` name the same file. */
export function sqlitePath(url: string): string {
  return url.replace(/^sqlite:(\/\/)?/i, '');
}
