import { DynamicModule, INestApplication, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import {
  AmporaConfig,
  buildOpenApiDocument,
  Clock,
  configureLogging,
  createLogger,
  describeRefusedJsonBodies,
  httpTelemetryMiddleware,
  jsonBodiesOnly,
  mountOpenApi,
  NestLoggerAdapter,
  prepareDatabase,
  useBoundedJsonBody,
} from '@ampora/platform';
import { discardWebhookBodies } from '@ampora/gitops';
import { OidcDiscovery } from '@ampora/governance';
import { AMPORA_MIGRATIONS } from '../../composition/src';
import { OpampWsAdapter } from '@ampora/opamp';
import { AppModule } from './app.module';
import { mountConsole, originOf } from './console-assets';
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
  // OpAMP and the OTLP intake of agents' own metrics (decision 0320) read their own bodies
  useBoundedJsonBody(app, config, { ownBodies: [config.opamp.path, '/v1/metrics'] });
  app.use(describeRefusedJsonBodies);
  app.getHttpAdapter().getInstance().disable('x-powered-by');
  const document = buildOpenApiDocument(app, { version, tags: OPENAPI_TAGS });
  mountOpenApi(app, document);
  // the web console at / (its own paths only; decision 0340)
  mountConsole(app, undefined, (m) => createLogger('Ampora.Server').info(m), consoleConnectOrigins(app, config));
  return app;
}

/**
 * Where the console's page may connect besides its own origin: the OIDC issuer and its token
 * endpoint, when the console signs in there (decision 0385). Discovery starts now, so the page a
 * browser loads has the token endpoint's origin in its policy.
 */
function consoleConnectOrigins(app: INestApplication, config: AmporaConfig): () => string[] {
  const { issuer, clientId } = config.auth.oidc;
  if (!issuer || !clientId) return () => [];
  const discovery = app.get(OidcDiscovery);
  discovery.get().catch((e: unknown) => createLogger('Ampora.Server').warn('OIDC discovery for the console failed: {Reason}', { Reason: e instanceof Error ? e.message : String(e) }));
  return () => [...originOf(issuer), ...originOf(discovery.known()?.tokenEndpoint)];
}
