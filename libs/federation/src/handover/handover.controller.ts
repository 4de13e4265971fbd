import { Body, Controller, HttpCode, Param, Post } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { createZodDto, ZodResponse } from 'nestjs-zod';
import { z } from 'zod';
import { ApiProblems, CurrentPrincipal, IdParamDto, MinRole, Principal } from '@ampora/platform';
import { Role } from '@ampora/governance';
import { HandoverService } from './handover.service';

const HandoverRequestSchema = z.object({ peer: z.string().min(1).max(63).describe('The Active peer the agent moves to') }).strict();
class HandoverRequestDto extends createZodDto(HandoverRequestSchema) {}

const HandoverResultSchema = z.object({
  agentId: z.uuid(),
  peer: z.string(),
  targetAgentId: z.string().describe('The agent\'s id on the peer'),
  endpoint: z.string().describe('The peer\'s OpAMP endpoint offered to the agent'),
  delivery: z.string().describe('How the new connection settings reached the agent'),
  group: z.string().nullable().describe('The peer\'s group the agent joined (same name), if any'),
  assignment: z.string().nullable().describe('Else the version assigned on the peer (same content), if any'),
  movedToPeer: z.string(),
});
class HandoverResultDto extends createZodDto(HandoverResultSchema) {}

@ApiTags('federation')
@Controller('api/agents')
export class HandoverController {
  constructor(private readonly handovers: HandoverService) {}

  @Post(':id/handover')
  @HttpCode(200)
  @MinRole(Role.Admin)
  @ApiOperation({ operationId: 'handOverAgent', summary: 'Move an mTLS agent to a peer deployment, keeping its identity: the peer adopts it, the agent is sent there and is MovedToPeer here' })
  @ApiProblems(400, 404, 409, 422)
  @ZodResponse({ status: 200, type: HandoverResultDto })
  handover(@CurrentPrincipal() p: Principal, @Param() { id }: IdParamDto, @Body() body: HandoverRequestDto) {
    return this.handovers.handover(p, id, body.peer);
  }
}
