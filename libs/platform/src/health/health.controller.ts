import { Controller, Get, Res } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';
import { Public } from '../auth/auth.decorators';
import { HealthService } from './health.service';

const ReadinessSchema = z
  .object({
    status: z.enum(['ok', 'unavailable']),
    checks: z.record(
      z.string(),
      z.object({ status: z.enum(['up', 'down']), error: z.string().optional(), advisory: z.boolean().optional().describe('reported only: does not make the instance unready (e.g. `worker`)') }),
    ),
  })
;
class ReadinessDto extends createZodDto(ReadinessSchema) {}
class LivenessDto extends createZodDto(z.object({ status: z.literal('ok') })) {}

@ApiTags('health')
@Controller('health')
@Public()
export class HealthController {
  constructor(private readonly health: HealthService) {}

  @Get('live')
  @ApiOperation({ operationId: 'live', summary: 'The process is up' })
  @ApiResponse({ status: 200, type: LivenessDto })
  live() {
    return { status: 'ok' as const };
  }

  @Get('ready')
  @ApiOperation({ operationId: 'ready', summary: 'PostgreSQL, Redis and the backplane answer (503 otherwise, and while shutting down); `worker` (advisory) says whether a worker is alive' })
  @ApiResponse({ status: 200, type: ReadinessDto })
  @ApiResponse({ status: 503, type: ReadinessDto, description: 'A dependency is down' })
  async ready(@Res() res: Response): Promise<void> {
    const report = await this.health.readiness();
    res.status(report.status === 'ok' ? 200 : 503).json(report);
  }
}
