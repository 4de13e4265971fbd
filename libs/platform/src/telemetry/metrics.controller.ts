import { Controller, Get, Req, Res } from '@nestjs/common';
import { ApiOperation, ApiProduces, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { Public } from '../auth/auth.decorators';
import { prometheusExporter } from './sdk';

@ApiTags('telemetry')
@Controller()
@Public()
export class MetricsController {
  @Get('metrics')
  @ApiOperation({ operationId: 'metrics', summary: 'Prometheus exposition of every ampora_* metric' })
  @ApiProduces('text/plain')
  @ApiResponse({ status: 200, description: 'Prometheus text format', content: { 'text/plain': { schema: { type: 'string' } } } })
  scrape(@Req() req: Request, @Res() res: Response): void {
    prometheusExporter().getMetricsRequestHandler(req, res);
  }
}
