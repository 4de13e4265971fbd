import { configureLogging, LogRecord } from '@ampora/platform';

export interface LogCapture {
  readonly records: LogRecord[];
  readonly lines: string[];
  find(predicate: (r: LogRecord) => boolean): LogRecord | undefined;
  clear(): void;
}

/**
 * Sends this process's log lines to memory instead of stdout (set LOG_TO_STDOUT=1 to see them too).
 */
export function captureLogs(level: LogRecord['level'] = 'Debug'): LogCapture {
  const records: LogRecord[] = [];
  const lines: string[] = [];
  const echo = process.env.LOG_TO_STDOUT === '1';
  configureLogging({
    level,
    sink: (line, record) => {
      lines.push(line);
      records.push(JSON.parse(line) as LogRecord);
      if (echo) process.stdout.write(line + '\n');
      void record;
    },
  });
  return {
    records,
    lines,
    find: (p) => records.find(p),
    clear: () => {
      records.length = 0;
      lines.length = 0;
    },
  };
}
