import { ModuleRef } from '@nestjs/core';
import { AGENT_DISPATCHER, AgentDispatcher } from '@ampora/opamp';

/**
 * The application's AGENT_DISPATCHER, when it has one: looked up once the application is assembled
 * rather than injected, as PkiModule does not import the OpAMP module and a process may have none.
 */
export function findAgentDispatcher(moduleRef: ModuleRef): AgentDispatcher | undefined {
  try {
    return moduleRef.get<AgentDispatcher>(AGENT_DISPATCHER, { strict: false });
  } catch {
    return undefined;
  }
}
