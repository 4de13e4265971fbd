import { Injectable } from '@nestjs/common';
import { ServerToAgentFlags } from '../../generated/opamp_pb';
import { availableComponentsToJson, JsonValue } from '../../protocol/codec';
import type { AgentToServerPartHandler, FrameContext } from '../frame-context';

/**
 * What the agent can do: `capabilities` (reported when they change), `available_components` (the
 * catalogue, asked for when only its hash came) and `custom_capabilities`.
 */
@Injectable()
export class CapabilitiesHandler implements AgentToServerPartHandler {
  handle(frame: FrameContext): void {
    const { message, report, session } = frame;
    if (message.capabilities !== session.capabilities) {
      session.capabilities = message.capabilities;
      report.capabilities = message.capabilities;
    }
    if (message.availableComponents) {
      if (Object.keys(message.availableComponents.components).length > 0) {
        report.availableComponents = availableComponentsToJson(message.availableComponents) as unknown as JsonValue;
      } else if (message.availableComponents.hash.length > 0) {
        // the handshake sends only the hash first; we keep no catalogue per hash yet, so ask for it
        frame.replyFlags |= BigInt(ServerToAgentFlags.ServerToAgentFlags_ReportAvailableComponents);
      }
    }
    if (message.customCapabilities) report.customCapabilities = [...message.customCapabilities.capabilities];
  }
}
