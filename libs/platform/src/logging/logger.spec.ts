import { context, trace, TraceFlags } from '@opentelemetry/api';
import { RequestContext } from '../context/request-context';
import { configureLogging, createLogger, LogRecord, renderTemplate } from './logger';
import { redactText } from './redact';

describe('structured logger', () => {
  let records: LogRecord[];
  beforeEach(() => {
    records = [];
    configureLogging({ level: 'Debug', sink: (line) => records.push(JSON.parse(line) as LogRecord) });
  });

  it('renders the template and adds every named property as its own key', () => {
    createLogger('Ampora.Fleet.Rollouts.RolloutService').info('Rollout {RolloutId} entered state {State}', { RolloutId: 'r-1', State: 'InProgress' });
    const [r] = records;
    expect(r).toMatchObject({
      level: 'Information',
      category: 'Ampora.Fleet.Rollouts.RolloutService',
      message: 'Rollout r-1 entered state InProgress',
      RolloutId: 'r-1',
      State: 'InProgress',
    });
    expect(r!.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it('uses .NET level names and filters below the minimum', () => {
    configureLogging({ level: 'Warning' });
    const log = createLogger('X');
    log.debug('no');
    log.info('no');
    log.warn('yes');
    log.error('yes');
    log.critical('yes');
    expect(records.map((r) => r.level)).toEqual(['Warning', 'Error', 'Critical']);
  });

  it('carries trace, span and tenant ids of the ambient context', () => {
    const spanContext = { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: TraceFlags.SAMPLED };
    const ctx = trace.setSpanContext(context.active(), spanContext);
    // without a registered context manager, context.with does not propagate; read via getActiveSpan fallback
    RequestContext.run({ tenantId: 'tenant-1' }, () => {
      const spy = jest.spyOn(trace, 'getActiveSpan').mockReturnValue(trace.wrapSpanContext(spanContext));
      createLogger('X').info('hello');
      spy.mockRestore();
    });
    expect(ctx).toBeDefined();
    expect(records[0]).toMatchObject({ trace_id: spanContext.traceId, span_id: spanContext.spanId, tenant_id: 'tenant-1' });
  });

  it('redacts secrets in properties, in rendered messages and in errors', () => {
    const token = 'amp-pat.ABCDEFGHIJKLMNOPQRSTUVWXYZ234567.ABCDEFG';
    const key = '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg\n-----END PRIVATE KEY-----';
    createLogger('X').warn('Login with {Header} and {Token}', { Header: `Bearer ${token}`, Token: token, password: 'hunter2', PrivateKey: key, TokenId: 'keep-me' }, new Error(`bad token ${token}`));
    const line = JSON.stringify(records[0]);
    expect(line).not.toContain('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567');
    expect(line).not.toContain('hunter2');
    expect(line).not.toContain('MIIEvQIBADANBg');
    expect(records[0]!.TokenId).toBe('keep-me');
  });

  it('keeps unknown placeholders and leaves plain text alone', () => {
    expect(renderTemplate('a {Missing} b', {})).toBe('a {Missing} b');
    expect(renderTemplate('n={N}', { N: 3 })).toBe('n=3');
    expect(redactText('postgres://user:secret@db/x')).toBe('postgres://user:[REDACTED]@db/x');
  });
});
