import { Controller, Get, Headers, Query, Req, Res } from '@nestjs/common';
import { ApiHeader, ApiOperation, ApiProduces, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { CurrentPrincipal, MinRole } from '../auth/auth.decorators';
import { Principal } from '../context/request-context';
import { ApiProblems } from '../openapi/api-problems.decorator';
import { LiveQueryDto } from './dto/live.dto';
import { LiveStreamService } from './live-stream.service';

@ApiTags('live')
@Controller('api/live')
export class LiveController {
  constructor(private readonly streams: LiveStreamService) {}

  @Get()
  @MinRole('Viewer')
  @ApiOperation({
    operationId: 'streamLiveEvents',
    summary: 'Live events of your tenant as Server-Sent Events (resumable with Last-Event-ID)',
    description:
      'Each event has an `id`, its type as the SSE `event` and a JSON `data` object `{ id, type, tenantId, entityId, at, origin, payload }`. ' +
      'Control events: `dropped` `{ count, lastEventId }` when this subscriber read too slowly and lost events, ' +
      '`reset` `{ reason, lastEventId }` when the events after `Last-Event-ID` are no longer known (reload your view).',
  })
  @ApiHeader({ name: 'Last-Event-ID', required: false, description: 'Resume after this event id (within the replay window)' })
  @ApiProduces('text/event-stream')
  @ApiResponse({ status: 200, description: 'An endless event stream', content: { 'text/event-stream': { schema: { type: 'string' } } } })
  @ApiProblems(400)
  stream(@CurrentPrincipal() p: Principal, @Query() q: LiveQueryDto, @Headers('last-event-id') lastEventId: string | undefined, @Req() req: Request, @Res() res: Response): void {
    this.streams.open(p, { types: q.types, lastEventId: lastEventId?.trim() || q.lastEventId }, req, res);
  }
}
