import { Controller, Headers, HttpCode, Param, Post } from '@nestjs/common';
import { ApiHeader, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ZodResponse } from 'nestjs-zod';
import { ApiProblems, IdParamDto, Public } from '@ampora/platform';
import { WebhookAcceptedDto } from './dto/git-source.dto';
import { SourcesService } from './sources.service';

/** `POST /api/git/webhook/{sourceId}`: any Git host's push hook; the body is ignored, the tip is read from Git. */
@ApiTags('gitops')
@Controller('api/git/webhook')
@Public()
export class GitWebhookController {
  constructor(private readonly sources: SourcesService) {}

  @Post(':id')
  @HttpCode(202)
  @ApiOperation({ operationId: 'gitWebhook', summary: 'Trigger a sweep of a source (header X-Ampora-Webhook-Token; body ignored)' })
  @ApiHeader({ name: 'X-Ampora-Webhook-Token', required: true })
  @ApiProblems(400, 401)
  @ZodResponse({ status: 202, type: WebhookAcceptedDto })
  async trigger(@Param() { id }: IdParamDto, @Headers('x-ampora-webhook-token') token: string | undefined) {
    const { accepted } = await this.sources.webhook(id, token);
    return { sourceId: id, accepted };
  }
}
