import { trace } from '@opentelemetry/api';
import { LogLevelName } from '../config/ampora-config';
import { RequestContext } from '../context/request-context';
import { isSensitiveKey, redactText, redactValue, REDACTED } from './redact';

export type LogProps = Record<string, unknown>;

const RANK: Record<LogLevelName, number> = {
  Trace: 0,
  Debug: 1,
  Information: 2,
  Warning: 3,
  Error: 4,
  Critical: 5,
};

/** Receives each finished log line (one JSON object, no trailing newline). */
export type LogSink = (line: string, record: LogRecord) => void;

export interface LogRecord {
  timestamp: string;
  level: LogLevelName;
  category: string;
  message: string;
  trace_id?: string;
  span_id?: string;
  tenant_id?: string;
  [property: string]: unknown;
}

const RESERVED = new Set(['timestamp', 'level', 'category', 'message', 'trace_id', 'span_id', 'tenant_id', 'exception']);

const stdoutSink: LogSink = (line) => {
  process.stdout.write(line + '\n');
};

const settings: { level: LogLevelName; sinks: LogSink[] } = { level: 'Information', sinks: [stdoutSink] };

/** Sets the minimum level and, optionally, replaces where lines go. */
export function configureLogging(options: { level?: LogLevelName; sink?: LogSink }): void {
  if (options.level) settings.level = options.level;
  if (options.sink) settings.sinks = [options.sink];
}

/** Adds a sink next to the existing ones (tests capture lines this way); returns a remover. */
export function addLogSink(sink: LogSink): () => void {
  settings.sinks.push(sink);
  return () => {
    settings.sinks = settings.sinks.filter((s) => s !== sink);
  };
}

export function logLevelEnabled(level: LogLevelName): boolean {
  return RANK[level] >= RANK[settings.level];
}

/** Renders `{Name}` placeholders from the properties; unknown placeholders stay as they are. */
export function renderTemplate(template: string, props: LogProps | undefined): string {
  if (!props) return template;
  return template.replace(/\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (whole, name: string) => {
    if (!(name in props)) return whole;
    if (isSensitiveKey(name)) return REDACTED;
    const v = props[name];
    if (v === null || v === undefined) return String(v);
    if (typeof v === 'object') return JSON.stringify(redactValue(v));
    return String(v);
  });
}

/**
 * A structured logger for one category (for example `Ampora.Platform.Auth.TokenService`).
 * Messages are templates whose named properties become keys of the JSON line.
 */
export class Logger {
  constructor(readonly category: string) {}

  trace(template: string, props?: LogProps): void {
    this.write('Trace', template, props);
  }
  debug(template: string, props?: LogProps): void {
    this.write('Debug', template, props);
  }
  info(template: string, props?: LogProps): void {
    this.write('Information', template, props);
  }
  warn(template: string, props?: LogProps, error?: unknown): void {
    this.write('Warning', template, props, error);
  }
  error(template: string, props?: LogProps, error?: unknown): void {
    this.write('Error', template, props, error);
  }
  critical(template: string, props?: LogProps, error?: unknown): void {
    this.write('Critical', template, props, error);
  }

  isEnabled(level: LogLevelName): boolean {
    return logLevelEnabled(level);
  }

  write(level: LogLevelName, template: string, props?: LogProps, error?: unknown): void {
    if (!logLevelEnabled(level)) return;
    const span = trace.getActiveSpan()?.spanContext();
    const tenantId = RequestContext.tenantId();
    const record: LogRecord = {
      timestamp: new Date().toISOString(),
      level,
      category: this.category,
      message: redactText(renderTemplate(template, props)),
    };
    if (span && span.traceId !== '00000000000000000000000000000000') {
      record.trace_id = span.traceId;
      record.span_id = span.spanId;
    }
    if (tenantId) record.tenant_id = tenantId;
    if (props) {
      for (const [k, v] of Object.entries(props)) {
        const key = RESERVED.has(k) ? `prop_${k}` : k;
        record[key] = isSensitiveKey(k) && v !== null && v !== undefined ? REDACTED : redactValue(v);
      }
    }
    if (error !== undefined) record.exception = describeError(error);
    let line: string;
    try {
      line = JSON.stringify(record);
    } catch {
      line = JSON.stringify({ ...record, message: record.message, props: '[unserializable]' });
    }
    for (const sink of settings.sinks) sink(line, record);
  }
}

function describeError(error: unknown): Record<string, unknown> {
  if (error instanceof Error) {
    return {
      type: error.name,
      message: redactText(error.message),
      stack: error.stack ? redactText(error.stack) : undefined,
    };
  }
  return { type: typeof error, message: redactText(String(error)) };
}

export function createLogger(category: string): Logger {
  return new Logger(category);
}
