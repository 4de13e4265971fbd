import { AGENT_AUTHENTICATOR } from '@ampora/opamp';
import { FleetAgentAuthenticator } from './agent-authenticator.service';

/** The fleet answers the OpAMP library's "who is this agent" port. */
export const AgentAuthenticatorProviders = [FleetAgentAuthenticator, { provide: AGENT_AUTHENTICATOR, useExisting: FleetAgentAuthenticator }];
