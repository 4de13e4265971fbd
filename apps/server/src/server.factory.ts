import { DynamicModule, INestApplication, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import {
  AmporaConfig,
  buildOpenApiDocument,
  Clock,
  configureLogging,
  describeRefusedJsonBodies,
  httpTelemetryMiddleware,
  jsonBodiesOnly,
  mountOpenApi,
  NestLoggerAdapter,
  prepareDatabase,
  useBoundedJsonBody,
} from '@ampora/platform';
import { discardWebhookBodies } from '@ampora/gitops';
import { AMPORA_MIGRATIONS } from '../../composition/src';
import { OpampWsAdapter } from '@ampora/opamp';
import { AppModule } from './app.module';
import { OPENAPI_TAGS } from './openapi-tags';
import { version } from './version';

/**
 * Builds the server application: migrations (under the advisory lock), the Nest app, the HTTP
 * telemetry middleware and the OpenAPI document. `main.ts` and the end-to-end tests both use it.
 */
export async function createServer(config: AmporaConfig, extraModules: Array<Type | DynamicModule> = [], options: { clock?: Clock } = {}): Promise<INestApplication> {
  configureLogging({ level: config.logging.level });
  if (config.database.migrateOnStart) await prepareDatabase(config, AMPORA_MIGRATIONS);
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config, extraModules, options), {
    logger: new NestLoggerAdapter(),
    abortOnError: false,
  });
  // the OpAMP endpoint is a Nest gateway: binary frames through the WsAdapter, on the HTTP port
  app.useWebSocketAdapter(new OpampWsAdapter(app));
  app.use(httpTelemetryMiddleware);
  // /api takes JSON only: other media types are 415 before any parser reads them (decision 0142)
  // GitOps webhooks ignore their bodies: any Git host's payload is drained unread
  app.use(discardWebhookBodies);
  app.use(jsonBodiesOnly);
  // bounded: size, charset, UTF-8, nesting and member count checked before JSON.parse (decision 0130)
  useBoundedJsonBody(app, config, { ownBodies: [config.opamp.path] });
  app.use(describeRefusedJsonBodies);
  app.getHttpAdapter().getInstance().disable('x-powered-by');
  const document = buildOpenApiDocument(app, { version, tags: OPENAPI_TAGS });
  mountOpenApi(app, document);
  return app;
}
