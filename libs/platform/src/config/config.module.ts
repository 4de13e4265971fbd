import { DynamicModule, Global, Module } from '@nestjs/common';
import { AmporaConfig, loadConfig } from './ampora-config';

/** Injection token for the validated configuration. */
export const AMPORA_CONFIG = Symbol('AMPORA_CONFIG');

@Global()
@Module({})
export class ConfigModule {
  /** Registers an already validated configuration (apps validate before Nest starts). */
  static forRoot(config: AmporaConfig = loadConfig()): DynamicModule {
    return {
      module: ConfigModule,
      providers: [{ provide: AMPORA_CONFIG, useValue: config }],
      exports: [AMPORA_CONFIG],
    };
  }
}
