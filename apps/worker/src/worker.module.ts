import { DynamicModule, Module } from '@nestjs/common';
import { AmporaConfig, PlatformModule } from '@ampora/platform';
import { GovernanceModule } from '@ampora/governance';
import { WORKER_MODULES } from '../../composition/src/worker-modules';

/** The background process: BullMQ processors only (every domain's WorkerModule). */
@Module({})
export class WorkerModule {
  static forRoot(config: AmporaConfig): DynamicModule {
    return {
      module: WorkerModule,
      imports: [PlatformModule.forRoot(config), GovernanceModule, ...WORKER_MODULES],
    };
  }
}
