import { INestApplication } from '@nestjs/common';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { cleanupOpenApiDoc } from 'nestjs-zod';

export interface OpenApiTag {
  name: string;
  description: string;
}

export interface OpenApiOptions {
  version: string;
  /** Base URL shown in the document; relative (`/`) by default, so the document fits any host. */
  serverUrl?: string;
  tags: OpenApiTag[];
}

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'options', 'head', 'trace'] as const;

/** Generates the OpenAPI 3 document from the controllers and their zod DTOs. */
export function buildOpenApiDocument(app: INestApplication, options: OpenApiOptions): OpenAPIObject {
  const builder = new DocumentBuilder()
    .setTitle('Ampora API')
    .setDescription(
      'REST API of Ampora, the control plane for fleets of OpenTelemetry Collectors. ' +
        'Authenticate with `Authorization: Bearer <token>` (a personal access token `amp-pat.*` or an OIDC JWT). ' +
        'Errors are `application/problem+json` with a stable `code`. Lists page with `?limit=&cursor=` (the cursor is opaque and signed: pass `nextCursor` back unchanged). ' +
          'Request bodies are `application/json` (others: 415). Strings must not contain U+0000 or lone surrogates, integers fit 32 bits, dates lie in years 1-9999 (400 otherwise).',
    )
    .setOpenAPIVersion('3.1.0')
    .setVersion(options.version)
    .setLicense('Apache-2.0', 'https://www.apache.org/licenses/LICENSE-2.0')
    .addServer(options.serverUrl ?? '/', 'This Ampora deployment')
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'A personal access token (amp-pat.<secret>.<check>) or an OIDC JWT' }, 'bearer');
  for (const tag of options.tags) builder.addTag(tag.name, tag.description);
  const raw = SwaggerModule.createDocument(app, builder.build(), {
    operationIdFactory: (controllerKey, methodKey) => `${controllerKey.replace(/Controller$/, '')}_${methodKey}`,
  });
  const doc = cleanupOpenApiDoc(raw);
  // Anonymous operations say so explicitly, so every operation has its security stated.
  for (const item of Object.values(doc.paths)) {
    for (const method of METHODS) {
      const op = item[method];
      if (op && !op.security) op.security = [];
    }
  }
  return doc;
}

/** Serves the document at `/openapi.json` and interactive docs at `/docs`. */
export function mountOpenApi(app: INestApplication, document: OpenAPIObject): void {
  SwaggerModule.setup('docs', app, document, {
    jsonDocumentUrl: 'openapi.json',
    raw: ['json'],
    customSiteTitle: 'Ampora API',
    swaggerOptions: { persistAuthorization: true },
  });
}
