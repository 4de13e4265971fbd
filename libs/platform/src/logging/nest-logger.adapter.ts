import { LoggerService } from '@nestjs/common';
import { LogLevelName } from '../config/ampora-config';
import { Logger } from './logger';

/** Sends Nest's own log calls through the structured logger, category `Nest.<context>`. */
/** Nest's start-up chatter (one line per module and route) is Debug, not Information. */
const CHATTY = new Set(['InstanceLoader', 'RoutesResolver', 'RouterExplorer', 'NestFactory', 'NestApplication', 'WebSocketsController']);

export class NestLoggerAdapter implements LoggerService {
  private readonly loggers = new Map<string, Logger>();

  log(message: unknown, ...rest: unknown[]): void {
    const context = rest[rest.length - 1];
    this.emit(typeof context === 'string' && CHATTY.has(context) ? 'Debug' : 'Information', message, rest);
  }
  error(message: unknown, ...rest: unknown[]): void {
    this.emit('Error', message, rest);
  }
  warn(message: unknown, ...rest: unknown[]): void {
    this.emit('Warning', message, rest);
  }
  debug(message: unknown, ...rest: unknown[]): void {
    this.emit('Debug', message, rest);
  }
  verbose(message: unknown, ...rest: unknown[]): void {
    this.emit('Trace', message, rest);
  }
  fatal(message: unknown, ...rest: unknown[]): void {
    this.emit('Critical', message, rest);
  }

  private emit(level: LogLevelName, message: unknown, rest: unknown[]): void {
    const context = typeof rest[rest.length - 1] === 'string' ? (rest[rest.length - 1] as string) : 'Nest';
    const stack = level === 'Error' && typeof rest[0] === 'string' && rest.length > 1 ? rest[0] : undefined;
    const category = `Nest.${context}`;
    let logger = this.loggers.get(category);
    if (!logger) {
      logger = new Logger(category);
      this.loggers.set(category, logger);
    }
    const text = message instanceof Error ? message.message : typeof message === 'string' ? message : JSON.stringify(message);
    // Nest's messages are plain text: without properties, no placeholder is substituted.
    const error = message instanceof Error ? message : stack ? Object.assign(new Error(text), { stack }) : undefined;
    logger.write(level, text, undefined, error);
  }
}
