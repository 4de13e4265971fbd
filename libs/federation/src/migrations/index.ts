import { Federation1764000310000 } from './1764000310000-federation';
import { FederatedRollouts1764000430000 } from './1764000430000-federated-rollouts';
import { FederationHandovers1764000433000 } from './1764000433000-federation-handovers';
import { FederationRowLevelSecurity1764000514000 } from './1764000514000-federation-row-level-security';

/** Federation's migrations (its tables: federation.tables.ts), in timestamp order; the apps compose every lib's list. */
export const FEDERATION_MIGRATIONS = [Federation1764000310000, FederatedRollouts1764000430000, FederationHandovers1764000433000, FederationRowLevelSecurity1764000514000];
