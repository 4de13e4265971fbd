/**
 * True when an error says the database or Redis cannot be reached right now (a refused or dropped
 * connection, PostgreSQL shutting down, a pool that cannot connect), rather than that the request
 * or the code is wrong: such a failure is answered 503 with Retry-After, not 500 (decision 0245).
 * TypeORM wraps the driver's error in `driverError`.
 */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENOTCONN']);
// PostgreSQL SQLSTATE: class 08 (connection exception), 57P01–57P03 (shutting down, cannot connect now)
const SQLSTATE = /^(08[0-9A-Z]{3}|57P0[123])$/;
const MESSAGES = /connection terminated|connection timeout|timeout exceeded when trying to connect|client has encountered a connection error|connection is closed|MaxRetriesPerRequest|the database system is (starting up|shutting down)/i;

export function isStoreUnavailable(error: unknown, depth = 0): boolean {
  if (!error || typeof error !== 'object' || depth > 3) return false;
  const e = error as { code?: unknown; message?: unknown; driverError?: unknown; cause?: unknown };
  if (typeof e.code === 'string' && (NETWORK_CODES.has(e.code) || SQLSTATE.test(e.code))) return true;
  if (typeof e.message === 'string' && MESSAGES.test(e.message)) return true;
  return isStoreUnavailable(e.driverError, depth + 1) || isStoreUnavailable(e.cause, depth + 1);
}
