import { DynamicModule, Module } from '@nestjs/common';
import { AmporaConfig, PlatformModule } from '@ampora/platform';
import { GovernanceModule } from '@ampora/governance';

@Module({})
export class CliModule {
  static forRoot(config: AmporaConfig): DynamicModule {
    return { module: CliModule, imports: [PlatformModule.forRoot(config), GovernanceModule] };
  }
}
