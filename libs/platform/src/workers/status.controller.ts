import { Controller, Get, Inject } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { createZodDto, ZodResponse } from 'nestjs-zod';
import { z } from 'zod';
import { MinRole } from '../auth/auth.decorators';
import { PlatformConfig } from '../config/ampora-config';
import { AMPORA_CONFIG } from '../config/config.module';
import { HealthService } from '../health/health.service';
import { ApiProblems } from '../openapi/api-problems.decorator';
import { WorkerPresence } from './worker-presence';

const StatusSchema = z
  .object({
    instanceId: z.string().describe('The instance that answered'),
    storage: z.enum(['postgres', 'embedded']),
    shuttingDown: z.boolean().describe('This instance is draining: readiness is 503'),
    workers: z
      .object({
        alive: z.boolean().describe('A worker recorded a heartbeat within three AMPORA_WORKER_HEARTBEAT_SECONDS; without one, paced pushes and rollouts wait'),
        count: z.number().int().describe('Alive workers'),
        lastSeenAt: z.iso.datetime().nullable().describe("The latest heartbeat of any worker; null when none was ever seen"),
        instances: z.array(z.object({ instanceId: z.string(), startedAt: z.iso.datetime(), lastSeenAt: z.iso.datetime(), alive: z.boolean() })),
      })
      .meta({ id: 'WorkerStatus' }),
  });
class StatusDto extends createZodDto(StatusSchema) {}

@ApiTags('health')
@Controller('api/status')
@MinRole('Viewer')
export class StatusController {
  constructor(
    private readonly workers: WorkerPresence,
    private readonly health: HealthService,
    @Inject(AMPORA_CONFIG) private readonly config: PlatformConfig,
  ) {}

  @Get()
  @ApiOperation({ operationId: 'getStatus', summary: 'The deployment as this instance sees it: storage, shutdown, and whether a worker is alive' })
  @ApiProblems()
  @ZodResponse({ status: 200, type: StatusDto })
  async status() {
    return { instanceId: this.config.app.instanceId, storage: this.config.storage.mode, shuttingDown: this.health.isDraining, workers: await this.workers.status() };
  }
}
