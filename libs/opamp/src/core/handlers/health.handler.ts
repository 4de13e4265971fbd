import { Injectable } from '@nestjs/common';
import { healthToJson } from '../../protocol/codec';
import type { AgentToServerPartHandler, FrameContext } from '../frame-context';

/** `health`: the component health tree, as reported. */
@Injectable()
export class HealthHandler implements AgentToServerPartHandler {
  handle({ message, report }: FrameContext): void {
    if (message.health) report.health = healthToJson(message.health);
  }
}
