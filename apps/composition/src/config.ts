import { AmporaConfig, ConfigSection, loadConfig, loadConfigOrExit } from '@ampora/platform';
import { AUDIT_CONFIG_SECTION, GOVERNANCE_CONFIG_SECTION } from '@ampora/governance';
import { OPAMP_CONFIG_SECTION } from '@ampora/opamp';
import { PKI_CONFIG_SECTION } from '@ampora/pki';
import { FLEET_CONFIG_SECTION } from '@ampora/fleet';
import { ROLLOUTS_CONFIG_SECTION } from '@ampora/rollouts';
import { GITOPS_CONFIG_SECTION } from '@ampora/gitops';
import { FEDERATION_CONFIG_SECTION } from '@ampora/federation';

/** Every lib's configuration section (platform's own are always read). A lib with variables adds its section here. */
export const AMPORA_CONFIG_SECTIONS: readonly ConfigSection[] = [GOVERNANCE_CONFIG_SECTION, AUDIT_CONFIG_SECTION, OPAMP_CONFIG_SECTION, PKI_CONFIG_SECTION, FLEET_CONFIG_SECTION, ROLLOUTS_CONFIG_SECTION, GITOPS_CONFIG_SECTION, FEDERATION_CONFIG_SECTION];

type Env = Readonly<Record<string, string | undefined>>;

/** The whole configuration: platform's sections and every lib's (throws one ConfigValidationError listing every bad variable). */
export function loadAmporaConfig(env: Env = process.env): AmporaConfig {
  return loadConfig(env, AMPORA_CONFIG_SECTIONS);
}

/** For process entry points: loadAmporaConfig, or every problem printed and exit status 78. */
export function loadAmporaConfigOrExit(env: Env = process.env): AmporaConfig {
  return loadConfigOrExit(env, AMPORA_CONFIG_SECTIONS);
}
