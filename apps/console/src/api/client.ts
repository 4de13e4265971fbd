import { readCredential } from '../auth/session';
import { ApiError, toApiError } from './problem';

export type Query = Record<string, string | number | boolean | string[] | undefined | null>;

/** `?a=1&label=x&label=y` from a record (undefined, null and '' are left out; arrays repeat the key). */
export function queryString(q: Query = {}): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) {
    if (v === undefined || v === null || v === '') continue;
    if (Array.isArray(v)) v.filter(Boolean).forEach((x) => p.append(k, x));
    else p.append(k, String(v));
  }
  const s = p.toString();
  return s ? `?${s}` : '';
}

/** Called when the API answers 401: the console signs the user out. */
let onUnauthorized: () => void = () => undefined;
export function setUnauthorizedHandler(handler: () => void): void {
  onUnauthorized = handler;
}

/**
 * One call to the public REST API with the signed-in bearer token. Non-2xx answers throw an ApiError
 * carrying the problem (title, detail, code); 204 answers `undefined`.
 */
export async function api<T>(method: string, path: string, body?: unknown, query?: Query): Promise<T> {
  const credential = readCredential();
  const headers: Record<string, string> = { accept: 'application/json' };
  if (credential) headers.authorization = `Bearer ${credential.token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${path}${queryString(query)}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (!res.ok) {
    const error = await toApiError(res);
    if (res.status === 401) onUnauthorized();
    throw error;
  }
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

export const get = <T>(path: string, query?: Query) => api<T>('GET', path, undefined, query);
export const post = <T>(path: string, body?: unknown) => api<T>('POST', path, body);
export const put = <T>(path: string, body?: unknown) => api<T>('PUT', path, body);
export const patch = <T>(path: string, body?: unknown) => api<T>('PATCH', path, body);
export const del = <T>(path: string) => api<T>('DELETE', path);

export interface Page<T> {
  items: T[];
  nextCursor?: string | null;
  total?: number;
}

export { ApiError };
