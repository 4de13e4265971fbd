import { DynamicModule, Global, Module } from '@nestjs/common';
import { PlatformConfig } from './ampora-config';

/** Injection token for the validated configuration. */
export const AMPORA_CONFIG = Symbol('AMPORA_CONFIG');

@Global()
@Module({})
export class ConfigModule {
  /** Registers an already validated configuration (apps validate it, with every lib's section, before Nest starts). */
  static forRoot(config: PlatformConfig): DynamicModule {
    return {
      module: ConfigModule,
      providers: [{ provide: AMPORA_CONFIG, useValue: config }],
      exports: [AMPORA_CONFIG],
    };
  }
}
