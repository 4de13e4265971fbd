import { DynamicModule, Module } from '@nestjs/common';
import { AmporaConfig, PlatformModule, QueueWorkerModule } from '@ampora/platform';
import { FleetWorkerModule } from '@ampora/fleet';

/** The background process: BullMQ processors only (every domain's WorkerModule). */
@Module({})
export class WorkerModule {
  static forRoot(config: AmporaConfig): DynamicModule {
    return {
      module: WorkerModule,
      imports: [PlatformModule.forRoot(config), QueueWorkerModule, FleetWorkerModule],
    };
  }
}
