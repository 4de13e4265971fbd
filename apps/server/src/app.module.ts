import { DynamicModule, Module, Type } from '@nestjs/common';
import { AmporaConfig, Clock, PlatformApiModule, PlatformModule } from '@ampora/platform';
import { GovernanceApiModule, GovernanceModule } from '@ampora/governance';
import { OpampApiModule } from '@ampora/opamp';
import { PkiApiModule } from '@ampora/pki';
import { FleetApiModule } from '@ampora/fleet';
import { RolloutsApiModule } from '@ampora/rollouts';
import { GitopsApiModule } from '@ampora/gitops';
import { FederationApiModule } from '@ampora/federation';
import { WORKER_MODULES } from '../../composition/src/worker-modules';

/** The HTTP + OpAMP process: the platform and governance plus every domain's API module. */
@Module({})
export class AppModule {
  static forRoot(config: AmporaConfig, extra: Array<Type | DynamicModule> = [], options: { clock?: Clock } = {}): DynamicModule {
    // the embedded store belongs to one process: the server then also runs the worker's processors
    const worker = config.storage.mode === 'embedded' ? WORKER_MODULES : [];
    return {
      module: AppModule,
      imports: [PlatformModule.forRoot(config, options), GovernanceModule, PlatformApiModule, GovernanceApiModule, OpampApiModule, PkiApiModule, FleetApiModule, RolloutsApiModule, GitopsApiModule, FederationApiModule, ...worker, ...extra],
    };
  }
}
