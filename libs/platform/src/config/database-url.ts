/**
 * DATABASE_URL fit to print: the password of the user info and the `password`, `sslpassword` and
 * `sslkey` query parameters (which pg also reads) masked. Whatever cannot be parsed is not printed.
 * The one masking used by the server's CLI hint and by `npm start` (scripts/start.js).
 */
export function maskDatabaseUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    for (const key of ['password', 'sslpassword', 'sslkey']) if (u.searchParams.has(key)) u.searchParams.set(key, '***');
    return u.toString();
  } catch {
    return '<your DATABASE_URL>';
  }
}
