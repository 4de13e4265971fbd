import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';

import { join } from 'node:path';

import { Ampora, AgentDetail } from './ampora-processes';
import { PeerProcess, peer, peerDir, until } from './peer-processes';

/** The Collector with the opamp extension and the OpAMP Supervisor as test peers, and their YAML. */

export interface ExtensionCollectorOptions {
  endpoint: string;
  token?: string;
  /** The fixed instance uid (a UUID); the extension makes a new one on each start without it. */
  instanceUid?: string;
  tls?: { caFile: string; certFile: string; keyFile: string };
  otlpPort?: number;
}

/** A Collector running its own configuration with the opamp extension reporting to Ampora. */
export class ExtensionCollector {
  readonly dir = peerDir('ampora-col-');
  readonly configFile = join(this.dir, 'config.yaml');
  proc?: PeerProcess;

  constructor(readonly options: ExtensionCollectorOptions) {
    writeFileSync(this.configFile, extensionCollectorYaml(options));
  }

  start(): PeerProcess {
    this.proc = new PeerProcess('testcol', peer('testcol'), ['--config', this.configFile]);
    return this.proc;
  }
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    await this.proc?.kill(signal);
  }
  async close(): Promise<void> {
    await this.kill('SIGTERM');
    rmSync(this.dir, { recursive: true, force: true });
  }
}

const q = (s: string) => JSON.stringify(s);

export function extensionCollectorYaml(o: ExtensionCollectorOptions): string {
  const lines = [
    'extensions:',
    '  opamp:',
    '    server:',
    '      ws:',
    `        endpoint: ${q(o.endpoint)}`,
  ];
  if (o.token) lines.push('        headers:', `          Authorization: ${q(`Bearer ${o.token}`)}`);
  if (o.tls) lines.push('        tls:', `          ca_file: ${q(o.tls.caFile)}`, `          cert_file: ${q(o.tls.certFile)}`, `          key_file: ${q(o.tls.keyFile)}`);
  if (o.instanceUid) lines.push(`    instance_uid: ${q(o.instanceUid)}`);
  lines.push(
    '    capabilities:',
    '      reports_effective_config: true',
    '      reports_health: true',
    '      reports_available_components: true',
    '    agent_description:',
    '      non_identifying_attributes:',
    '        ampora.test: interop',
    'receivers:',
    '  otlp:',
    '    protocols:',
    '      http:',
    `        endpoint: 127.0.0.1:${o.otlpPort ?? 0}`,
    'exporters:',
    '  nop: {}',
    '  debug: {}',
    'service:',
    '  extensions: [opamp]',
    '  pipelines:',
    '    traces:',
    '      receivers: [otlp]',
    '      exporters: [nop]',
    '  telemetry:',
    '    metrics:',
    '      level: none',
    '',
  );
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------
// The OpAMP Supervisor managing a Collector

export interface SupervisorOptions {
  endpoint: string;
  token?: string;
  /** The Supervisor's instance id (a UUID); fixed so a restart is the same agent. */
  instanceId?: string;
  tls?: { caFile: string; certFile: string; keyFile: string };
  /** Collector environment (the versions in the tests read their OTLP ports from it). */
  env?: Record<string, string>;
  configApplyTimeoutSeconds?: number;
  acceptsConnectionSettings?: boolean;
  /**
   * Reports its own metrics (issue 20): ReportsOwnMetrics, the Collector's metrics on (no reader of its
   * own, so no port 8888 once the offer is applied), exported every `exportIntervalMs`.
   */
  ownMetrics?: { exportIntervalMs: number };
  /** Reports its own logs (ReportsOwnLogs): the Collector sends them where the offer's own_logs points. */
  ownLogs?: boolean;
}

/** The Supervisor's apply timer: APPLIED comes when it runs out with a healthy Collector (v0.158.0). */
export const SUPERVISOR_APPLY_TIMEOUT_SECONDS = 4;

export class Supervisor {
  readonly dir = peerDir('ampora-sup-');
  readonly storage = join(this.dir, 'storage');
  readonly configFile = join(this.dir, 'supervisor.yaml');
  readonly localFile = join(this.dir, 'local.yaml');
  readonly instanceId: string;
  proc?: PeerProcess;

  constructor(readonly options: SupervisorOptions) {
    this.instanceId = options.instanceId ?? randomUUID();
    mkdirSync(this.storage, { recursive: true, mode: 0o700 });
    // several Collectors on one machine: none of them may open the default metrics port 8888 (with
    // own metrics: no reader until the own-telemetry settings, merged after this file, bring theirs)
    writeFileSync(this.localFile, `service:\n  telemetry:\n    metrics:\n      level: ${options.ownMetrics ? 'normal\n      readers: []' : 'none'}\n`);
    writeFileSync(this.configFile, supervisorYaml(this, options));
  }

  start(): PeerProcess {
    this.proc = new PeerProcess(`supervisor-${this.instanceId.slice(-4)}`, peer('opampsupervisor'), ['--config', this.configFile], {}, this.dir);
    return this.proc;
  }

  /** Starts it and waits until Ampora lists it connected (Supervisors bootstrap one at a time). */
  async startAndWait(ampora: Ampora, timeoutMs = 120_000): Promise<AgentDetail> {
    const proc = this.start();
    try {
      const found = await ampora.agentByUid(this.instanceId, timeoutMs);
      return await ampora.waitAgent(found.id, 'supervisor connected', (a) => a.status === 'connected', timeoutMs);
    } catch (error) {
      throw new Error(`${(error as Error).message}\nsupervisor output:\n${proc.text().slice(-4000)}`);
    }
  }

  /** What the Supervisor wrote for its Collector last. */
  effectiveYaml(): string {
    try {
      return readFileSync(join(this.storage, 'effective.yaml'), 'utf8');
    } catch {
      return '';
    }
  }

  async kill(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    await this.proc?.kill(signal);
  }
  async close(): Promise<void> {
    await this.kill('SIGTERM');
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function supervisorYaml(s: Supervisor, o: SupervisorOptions): string {
  const lines = ['server:', `  endpoint: ${q(o.endpoint)}`];
  if (o.token) lines.push('  headers:', `    Authorization: [${q(`Bearer ${o.token}`)}]`);
  if (o.tls) lines.push('  tls:', `    ca_file: ${q(o.tls.caFile)}`, `    cert_file: ${q(o.tls.certFile)}`, `    key_file: ${q(o.tls.keyFile)}`);
  lines.push(
    'capabilities:',
    '  accepts_remote_config: true',
    '  reports_remote_config: true',
    '  reports_effective_config: true',
    '  reports_health: true',
    `  reports_own_metrics: ${o.ownMetrics ? 'true' : 'false'}`,
    `  reports_own_logs: ${o.ownLogs ? 'true' : 'false'}`,
    '  reports_available_components: true',
    '  reports_heartbeat: true',
    `  accepts_opamp_connection_settings: ${o.acceptsConnectionSettings ? 'true' : 'false'}`,
    'agent:',
    `  executable: ${q(peer('testcol'))}`,
    `  instance_id: ${q(s.instanceId)}`,
    `  config_apply_timeout: ${o.configApplyTimeoutSeconds ?? SUPERVISOR_APPLY_TIMEOUT_SECONDS}s`,
    '  bootstrap_timeout: 60s',
    '  orphan_detection_interval: 2s',
    '  collector_crash_log_snippet_kib: 4',
  );
  if (o.ownMetrics) {
    // the bootstrap run opens port 8888 for its few seconds (the --set below would silence own metrics
    // too); the local file comes first, so the offered own-telemetry readers replace its empty list
    lines.push('  config_files:', `    - ${q(s.localFile)}`, '    - $OWN_TELEMETRY_CONFIG', '    - $OPAMP_EXTENSION_CONFIG', '    - $REMOTE_CONFIG');
  } else {
    lines.push(
      // also for the Supervisor's bootstrap run of the Collector, which reads none of the files below:
      // two bootstraps at once (here, in the other interop file, anywhere on the host) must not both
      // want the default metrics port 8888
      '  args: ["--set=service.telemetry.metrics.level=none"]',
      '  config_files:',
      '    - $OWN_TELEMETRY_CONFIG',
      '    - $OPAMP_EXTENSION_CONFIG',
      '    - $REMOTE_CONFIG',
      `    - ${q(s.localFile)}`,
    );
  }
  const env = { ...(o.env ?? {}), ...(o.ownMetrics ? { OTEL_METRIC_EXPORT_INTERVAL: String(o.ownMetrics.exportIntervalMs) } : {}) };
  if (Object.keys(env).length) {
    lines.push('  env:');
    for (const [k, v] of Object.entries(env)) lines.push(`    ${k}: ${q(v)}`);
  }
  lines.push('storage:', `  directory: ${q(s.storage)}`, 'telemetry:', '  logs:', '    level: info', '');
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------
// Talking to the Collector

/** POSTs one OTLP/HTTP trace (JSON) to a Collector's otlp receiver; the HTTP status (0: nothing listens). */
export async function sendOtlpTrace(port: number): Promise<number> {
  const body = {
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'ampora-interop' } }] },
        scopeSpans: [
          {
            spans: [
              {
                traceId: '5b8efff798038103d269b633813fc60c',
                spanId: 'eee19b7ec3c1b174',
                name: 'interop',
                kind: 1,
                startTimeUnixNano: String(Date.now() * 1e6),
                endTimeUnixNano: String(Date.now() * 1e6 + 1e6),
              },
            ],
          },
        ],
      },
    ],
  };
  try {
    const res = await fetch(`http://127.0.0.1:${port}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(5000) });
    return res.status;
  } catch {
    return 0;
  }
}

/** A Collector configuration whose otlp receiver listens on the port in the Collector's environment variable `portVar`. */
export function collectorVersionYaml(tag: string, portVar: string, extra: { receiver?: string; exporter?: { id: string; lines: string[] }; processor?: { id: string; lines: string[] } } = {}): string {
  const lines = [
    `# ${tag}`,
    'receivers:',
    '  otlp:',
    '    protocols:',
    '      http:',
    `        endpoint: 127.0.0.1:\${env:${portVar}}`,
  ];
  // a version the Collector cannot run: an otlp receiver (a component it has, so Ampora's available-components
  // check lets it through, issue 20) with a protocol it does not know, named after `receiver`
  if (extra.receiver) lines.push(`  otlp/${extra.receiver}:`, '    protocols:', `      ${extra.receiver}: {}`);
  // every version keeps the nop exporter the peers start with beside its own: a push that replaced every
  // exporter of a pipeline would be an exporter swap, which the built-in policy denies by default (issue 17)
  if (extra.processor) lines.push('processors:', `  ${extra.processor.id}:`, ...extra.processor.lines.map((l) => `    ${l}`));
  lines.push('exporters:', '  nop: {}', `  debug/${tag}:`, '    verbosity: basic');
  if (extra.exporter) lines.push(`  ${extra.exporter.id}:`, ...extra.exporter.lines.map((l) => `    ${l}`));
  lines.push(
    'service:',
    '  pipelines:',
    '    traces:',
    `      receivers: [otlp${extra.receiver ? `, otlp/${extra.receiver}` : ''}]`,
    ...(extra.processor ? [`      processors: [${extra.processor.id}]`] : []),
    `      exporters: [nop, debug/${tag}${extra.exporter ? `, ${extra.exporter.id}` : ''}]`,
    '',
  );
  return lines.join('\n');
}
