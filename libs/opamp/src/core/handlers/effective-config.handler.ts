import { Injectable } from '@nestjs/common';
import { configMapToFiles } from '../../protocol/codec';
import { configContentHash } from '../../protocol/config-hash';
import type { AgentToServerPartHandler, FrameContext } from '../frame-context';

/** `effective_config`: the files the agent runs, with the hash of their content. */
@Injectable()
export class EffectiveConfigHandler implements AgentToServerPartHandler {
  handle({ message, report }: FrameContext): void {
    if (!message.effectiveConfig) return;
    const files = configMapToFiles(message.effectiveConfig.configMap);
    report.effectiveConfig = { files, contentHash: configContentHash(files) };
  }
}
