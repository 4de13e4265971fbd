import type { NestExpressApplication } from '@nestjs/platform-express';
import { isUtf8 } from 'node:buffer';
import type { IncomingMessage } from 'node:http';
import type { PlatformConfig } from '../config/ampora-config';
import { PlatformErrorCode, PlatformException } from '../errors/domain.exception';
import { scanJsonLimits } from './domain/json-limits';

/**
 * The JSON body parser of the REST API, bounded (decision 0130): at most `bodyMaxBytes` are read
 * (413 PAYLOAD_TOO_LARGE), only UTF-8 is accepted (another declared charset is 415
 * UNSUPPORTED_MEDIA_TYPE before a byte is read; bytes that are not valid UTF-8 are 400
 * INVALID_ENCODING, never silently replaced), and nesting and member counts are checked on the raw
 * bytes before `JSON.parse` (400 JSON_TOO_DEEP / JSON_TOO_MANY_KEYS). Every check is one linear pass.
 */
export function useBoundedJsonBody(app: NestExpressApplication, config: PlatformConfig, options: { ownBodies?: string[] } = {}): void {
  const { bodyMaxBytes, jsonMaxDepth, jsonMaxKeys } = config.limits;
  const ownBodies = new Set((options.ownBodies ?? []).map((p) => p.toLowerCase()));
  app.useBodyParser('json', {
    limit: bodyMaxBytes,
    // endpoints that read their own bodies (OpAMP's: a JSON body sent there is OpAMP's to refuse, 415,
    // counted as a rejected frame, not the REST parser's; decision 0242) are named by the app
    type: (req: IncomingMessage) => mediaType(req) === 'application/json' && !ownBodies.has(pathOf(req)),
    verify: (_req: IncomingMessage, _res: unknown, body: Buffer, encoding: string | null) => {
      if (encoding && encoding !== 'utf-8' && encoding !== 'utf8') {
        throw new PlatformException(PlatformErrorCode.UNSUPPORTED_MEDIA_TYPE, `JSON bodies are UTF-8; charset ${encoding} is not accepted`);
      }
      if (!isUtf8(body)) throw new PlatformException(PlatformErrorCode.INVALID_ENCODING, 'The request body is not valid UTF-8');
      const violation = scanJsonLimits(body, { maxDepth: jsonMaxDepth, maxKeys: jsonMaxKeys });
      if (violation) {
        const code = violation.limit === 'depth' ? PlatformErrorCode.JSON_TOO_DEEP : PlatformErrorCode.JSON_TOO_MANY_KEYS;
        throw new PlatformException(code, violation.message, { limit: violation.max });
      }
    },
  });
}

function mediaType(req: IncomingMessage): string {
  return String(req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
}

/** The request path as Express routes it: case-insensitive, a trailing slash ignored. */
function pathOf(req: IncomingMessage): string {
  const path = (req.url ?? '').split('?')[0]!.toLowerCase();
  return path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
}
