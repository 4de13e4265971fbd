import { OpenApiTag } from '@ampora/platform';

/** Every tag of the API, in the order the interactive docs show them. */
export const OPENAPI_TAGS: OpenApiTag[] = [
  { name: 'tokens', description: 'Personal access tokens for the REST API (Admin)' },
  { name: 'audit', description: 'The append-only audit log of every change' },
  { name: 'health', description: 'Liveness and readiness probes (anonymous)' },
  { name: 'telemetry', description: 'Prometheus metrics of this instance (anonymous)' },
];
