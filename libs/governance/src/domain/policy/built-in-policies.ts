import { ComponentView, ConfigView } from './push-context';

/** The two built-in policies (ADR-007), on by default and switchable per tenant. */
export const BuiltInPolicy = {
  ExporterSwap: 'builtin:exporter-swap',
  InsecureTlsExporter: 'builtin:insecure-tls-exporter',
} as const;
export type BuiltInPolicy = (typeof BuiltInPolicy)[keyof typeof BuiltInPolicy];

/**
 * Denies a push that replaces every exporter of a pipeline the agent runs today: a pipeline present
 * in both configurations whose exporters had at least one alias and now share none. Returns the
 * reason, or undefined to allow. Without a current configuration there is nothing to swap.
 */
export function exporterSwapDenial(current: ConfigView | undefined, next: ConfigView): string | undefined {
  if (!current) return undefined;
  for (const [id, before] of Object.entries(current.pipelines)) {
    const after = next.pipelines[id];
    if (!after || before.exporters.length === 0) continue;
    if (!after.exporters.some((e) => before.exporters.includes(e))) {
      return `pipeline ${id} would swap all its exporters (${before.exporters.join(', ')} → ${after.exporters.join(', ') || 'none'})`;
    }
  }
  return undefined;
}

function isInsecure(c: ComponentView): boolean {
  const tls = c.props.tls !== null && typeof c.props.tls === 'object' ? (c.props.tls as Record<string, unknown>) : {};
  return tls.insecure === true || tls.insecure_skip_verify === true || c.props.insecure === true || c.props.insecure_skip_verify === true;
}

/** The host of an exporter endpoint (`host:port`, `scheme://host:port/path`, `[::1]:4317`), lower case. */
export function endpointHost(endpoint: string): string | undefined {
  const text = endpoint.trim();
  if (!text || text.includes('${')) return undefined;
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `tcp://${text}`;
  try {
    const host = new URL(withScheme).hostname.toLowerCase();
    return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  } catch {
    return undefined;
  }
}

/** localhost, 127.0.0.0/8 or ::1. */
export function isLocalHost(host: string): boolean {
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (host === '::1' || host === '0:0:0:0:0:0:0:1') return true;
  const m = /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  return !!m && m.slice(1).every((o) => Number(o) <= 255);
}

/**
 * Denies an exporter with `insecure: true` or `insecure_skip_verify: true` (under `tls`, or at the
 * top for exporters that take it there) whose endpoint is not local. An endpoint that cannot be read
 * (missing, unparsable, an `${env:...}` reference) is not known to be local, so it is denied.
 */
export function insecureExporterDenial(next: ConfigView): string | undefined {
  for (const c of next.exporters) {
    if (!isInsecure(c)) continue;
    const endpoint = typeof c.props.endpoint === 'string' ? c.props.endpoint : typeof c.props.url === 'string' ? c.props.url : undefined;
    const host = endpoint === undefined ? undefined : endpointHost(endpoint);
    if (host === undefined || !isLocalHost(host)) {
      return `exporter ${c.alias} turns TLS verification off for ${endpoint === undefined ? 'an unknown endpoint' : `the non-local endpoint ${endpoint}`}`;
    }
  }
  return undefined;
}
