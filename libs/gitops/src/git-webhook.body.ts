import type { NextFunction, Request, Response } from 'express';

/** Webhook paths: the body is never read (any host, any media type, any size is fine). */
export const GIT_WEBHOOK_PATH_PREFIX = '/api/git/webhook/';

/**
 * Mounted by the server before the body parsers: a webhook's body is drained unread and the request
 * marked as parsed, so no media type or size check refuses a Git host's push payload.
 */
export function discardWebhookBodies(req: Request, _res: Response, next: NextFunction): void {
  if (req.path.toLowerCase().startsWith(GIT_WEBHOOK_PATH_PREFIX)) {
    req.resume();
    (req as Request & { _body?: boolean })._body = true;
    req.body = {};
    delete req.headers['content-type'];
    delete req.headers['content-length'];
    delete req.headers['transfer-encoding'];
  }
  next();
}
