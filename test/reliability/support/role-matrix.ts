import { randomUUID } from 'node:crypto';

/**
 * The role matrix of issue 16 §4, read from /openapi.json: every operation with its declared least
 * role (`x-ampora-min-role`) or `x-ampora-public`, called by every kind of caller.
 */
export type Caller = 'no token' | 'malformed token' | 'expired token' | 'revoked token' | 'Viewer' | 'Operator' | 'Admin' | "another tenant's Admin";
export const ROLES = ['Viewer', 'Operator', 'Admin'] as const;
export type RoleName = (typeof ROLES)[number];

export interface Operation {
  method: string;
  path: string;
  minRole?: RoleName;
  isPublic: boolean;
  /** Path parameters in order, with whether each is an integer. */
  params: Array<{ name: string; integer: boolean }>;
  hasBody: boolean;
  /** The statuses the document declares for it (a declared 503, such as CRL_NOT_PUBLISHED, is an answer, not a failure). */
  declared: string[];
}

export interface Answer {
  status: number;
  contentType: string;
  code?: string;
}

type OpenApiOperation = {
  'x-ampora-min-role'?: RoleName;
  'x-ampora-public'?: boolean;
  parameters?: Array<{ name: string; in: string; schema?: { type?: string } }>;
  requestBody?: unknown;
  responses?: Record<string, unknown>;
};

export function operationsOf(doc: { paths: Record<string, Record<string, OpenApiOperation>> }): Operation[] {
  const out: Operation[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of ['get', 'post', 'put', 'patch', 'delete']) {
      const op = item[method];
      if (!op) continue;
      const params = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => {
        const declared = op.parameters?.find((p) => p.in === 'path' && p.name === m[1]);
        return { name: m[1]!, integer: declared?.schema?.type === 'integer' || declared?.schema?.type === 'number' };
      });
      out.push({ method: method.toUpperCase(), path, minRole: op['x-ampora-min-role'], isPublic: op['x-ampora-public'] === true, params, hasBody: op.requestBody !== undefined, declared: Object.keys(op.responses ?? {}) });
    }
  }
  return out;
}

/** The path with every parameter filled: `ids` by name where given, else a fresh UUID (or 1). */
export function concretePath(op: Operation, ids: Record<string, string> = {}): string {
  let path = op.path;
  for (const p of op.params) path = path.replace(`{${p.name}}`, encodeURIComponent(ids[p.name] ?? (p.integer ? '1' : randomUUID())));
  return path;
}

/** What the caller must get: 401, 403, or anything but an authorization refusal ('allowed'). */
export function expected(op: Operation, caller: Caller): 401 | 403 | 'allowed' {
  // a public route that declares 401 takes its own credential (the GitOps webhook's secret header),
  // which no caller of the matrix carries: every one of them is refused
  if (op.isPublic) return op.declared.includes('401') ? 401 : 'allowed';
  if (caller === 'no token' || caller === 'malformed token' || caller === 'expired token' || caller === 'revoked token') return 401;
  const role: RoleName = caller === "another tenant's Admin" ? 'Admin' : caller;
  return ROLES.indexOf(role) >= ROLES.indexOf(op.minRole!) ? 'allowed' : 403;
}

/** An authorization refusal: 401, or 403 with the guard's code (a 403 of a business rule is not one). */
export function refusal(answer: Answer): 401 | 403 | undefined {
  if (answer.status === 401) return 401;
  if (answer.status === 403 && (answer.code === 'FORBIDDEN' || answer.code === undefined)) return 403;
  return undefined;
}

/** Calls one operation; an event stream is answered by its headers alone. */
export async function call(base: string, method: string, path: string, token: string | undefined, body?: unknown): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), 15_000);
  try {
    const res = await fetch(`${base}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: controller.signal });
    const contentType = res.headers.get('content-type') ?? '';
    if (contentType.startsWith('text/event-stream')) {
      await res.body?.cancel();
      return { status: res.status, contentType };
    }
    const text = await res.text();
    let code: string | undefined;
    try {
      code = (JSON.parse(text) as { code?: string }).code;
    } catch {
      code = undefined;
    }
    return { status: res.status, contentType, code };
  } finally {
    clearTimeout(timer);
  }
}
