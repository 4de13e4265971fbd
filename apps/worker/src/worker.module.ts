import { DynamicModule, Module } from '@nestjs/common';
import { AmporaConfig, PlatformModule } from '@ampora/platform';
import { WORKER_MODULES } from '../../composition/src/worker-modules';

/** The background process: BullMQ processors only (every domain's WorkerModule). */
@Module({})
export class WorkerModule {
  static forRoot(config: AmporaConfig): DynamicModule {
    return {
      module: WorkerModule,
      imports: [PlatformModule.forRoot(config), ...WORKER_MODULES],
    };
  }
}
