import { Injectable } from '@nestjs/common';
import { neutraliseText, REPORT_LIMITS } from '../../domain/report-sanitizer';
import { keyValuesToJson } from '../../protocol/codec';
import type { AgentToServerPartHandler, FrameContext } from '../frame-context';

/** `agent_description`: identifying and non-identifying attributes; `service.name` is the agent's type. */
@Injectable()
export class AgentDescriptionHandler implements AgentToServerPartHandler {
  handle({ message, report, session }: FrameContext): void {
    const description = message.agentDescription;
    if (!description) return;
    report.description = {
      identifying: keyValuesToJson(description.identifyingAttributes),
      nonIdentifying: keyValuesToJson(description.nonIdentifyingAttributes),
    };
    const type = report.description.identifying['service.name'];
    if (typeof type === 'string' && type) session.agentType = neutraliseText(type, REPORT_LIMITS.valueChars);
  }
}
