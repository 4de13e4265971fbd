import type { ErrorRequestHandler, NextFunction, Request, Response } from 'express';
import { PlatformErrorCode, PlatformException } from '../errors/domain.exception';
import { toProblem } from '../errors/problem.filter';
import { PROBLEM_CONTENT_TYPE } from '../errors/problem';

const JSON_TYPE = /^application\/json\s*(?:;|$)/i;
const OCTET_STREAM = /^application\/octet-stream\s*(?:;|$)/i;
/** The routes that take a file as the body (application/octet-stream): a package upload (decision 0331). */
const FILE_UPLOADS = [/^\/api\/packages\/[^/]+\/versions\/[^/]+$/];

function hasBody(req: Request): boolean {
  if (req.headers['transfer-encoding'] !== undefined) return true;
  const length = req.headers['content-length'];
  return length !== undefined && length !== '0';
}

/**
 * Every REST route under `/api` takes JSON (configurations travel as `{ "yaml": "..." }`). A request
 * whose body is of another media type (YAML, plain text, a form, none named) is answered 415
 * UNSUPPORTED_MEDIA_TYPE before any parser reads it, instead of reaching validation as an empty body
 * (decision 0142). Mounted before the body parsers.
 */
export function jsonBodiesOnly(req: Request, res: Response, next: NextFunction): void {
  const path = req.path.toLowerCase(); // Express routes case-insensitively
  if (!(path === '/api' || path.startsWith('/api/')) || !hasBody(req)) return next();
  const type = req.headers['content-type'];
  if (type !== undefined && JSON_TYPE.test(type)) return next();
  if (type !== undefined && OCTET_STREAM.test(type) && req.method === 'POST' && FILE_UPLOADS.some((r) => r.test(path))) return next();
  const named = type ? `was sent as ${type.split(';')[0]!.trim().slice(0, 100)}` : 'names no Content-Type';
  const yamlHint = type && /yaml/i.test(type) ? ' (a configuration version is sent as {"yaml": "<the YAML text>"})' : '';
  const exception = new PlatformException(PlatformErrorCode.UNSUPPORTED_MEDIA_TYPE, `This API takes JSON bodies: send Content-Type: application/json; this request ${named}${yamlHint}`);
  res.status(415).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(toProblem(exception)));
  // drain the unread body so a keep-alive connection stays usable
  req.resume();
}

/**
 * What a JSON body that the strict parser refused actually is, when it is valid JSON but not an
 * object or array (`null`, a number, a string, a boolean), so the answer can say so.
 */
function jsonScalar(body: unknown): string | null {
  if (typeof body !== 'string' || body.length > 1024) return null;
  const text = body.trim();
  if (text.startsWith('{') || text.startsWith('[')) return null;
  try {
    const value: unknown = JSON.parse(text);
    if (value === null) return 'JSON null';
    return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? `a JSON ${typeof value}` : null;
  } catch {
    return null;
  }
}

/**
 * An error handler mounted right after the JSON body parser: a body the strict parser refused because
 * it is a JSON scalar (`null`, a number, a string, a boolean) is reported as what it is, not as "not
 * valid JSON". (Nest would otherwise turn the parser's error into a bare 400 message.)
 */
export const describeRefusedJsonBodies: ErrorRequestHandler = (error: unknown, _req, _res, next) => {
  const e = error as { type?: string; body?: unknown } | null;
  const scalar = e && e.type === 'entity.parse.failed' ? jsonScalar(e.body) : null;
  if (!scalar) return next(error);
  next(PlatformException.validation([{ field: '(body)', message: `The body is ${scalar}; this route takes a JSON object` }]));
};
