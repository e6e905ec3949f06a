// A connection URL fit for logs, banners and messages: its password hidden (Redis, PostgreSQL).

export function redactUrl(url: string, unparseable = url): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return unparseable;
  }
}
