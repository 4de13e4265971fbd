import { DynamicModule, Module, Type } from '@nestjs/common';
import { AmporaConfig, PlatformApiModule, PlatformModule } from '@ampora/platform';
import { OpampApiModule } from '@ampora/opamp';
import { FleetApiModule } from '@ampora/fleet';

/** The HTTP + OpAMP process: the platform plus every domain's API module. */
@Module({})
export class AppModule {
  static forRoot(config: AmporaConfig, extra: Array<Type | DynamicModule> = []): DynamicModule {
    return {
      module: AppModule,
      imports: [PlatformModule.forRoot(config), PlatformApiModule, OpampApiModule, FleetApiModule, ...extra],
    };
  }
}
