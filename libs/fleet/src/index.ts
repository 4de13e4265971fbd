export * from './fleet.module';
export * from './fleet-api.module';
export * from './fleet.errors';
export { AgentsService, YAML_CONTENT_TYPE, CONFIG_FILE_KEY } from './agents/agents.service';
export { AgentStateWriter, FlushStats, FLUSH_BATCH_ROWS } from './agents/agent-state.writer';
export { BootstrapTokenService } from './bootstrap/bootstrap-token.service';
export { AgentStatus, agentStatus } from './agents/domain/agent-derivations';
