import { Inject, Injectable } from '@nestjs/common';
import type { Document } from 'yaml';
import { AMPORA_CONFIG, AmporaConfig, Metrics, TenantLabels } from '@ampora/platform';
import { FleetErrorCode, FleetException } from '../fleet.errors';
import { AvailableComponents, parseCollectorConfig, ParsedConfig } from './domain/collector-config';
import { aliasExpansionViolation, scanYamlLimitsAsync, YamlLimit, YamlLimits, YamlLimitViolation } from './domain/yaml-limits';

const CODES: Record<YamlLimit, FleetErrorCode> = {
  size: FleetErrorCode.CONFIG_TOO_LARGE,
  depth: FleetErrorCode.CONFIG_TOO_DEEP,
  nodes: FleetErrorCode.CONFIG_TOO_MANY_NODES,
  aliases: FleetErrorCode.CONFIG_TOO_MANY_ALIASES,
  alias_expansion: FleetErrorCode.CONFIG_ALIAS_EXPANSION_TOO_LARGE,
  tokens: FleetErrorCode.CONFIG_TOO_COMPLEX,
};

/** The 422 refusal naming the limit a configuration text exceeds. */
export function configLimitException(v: YamlLimitViolation): FleetException {
  return new FleetException(CODES[v.limit], `The configuration is refused: ${v.message}`, { limit: v.limit, max: v.max });
}

/**
 * The configured bounds of configuration texts (decision 0130), and the one way untrusted YAML is
 * parsed: scan (yielding to the event loop), then parse with the alias-expansion check.
 */
@Injectable()
export class ConfigTextLimits {
  readonly yaml: YamlLimits;

  constructor(@Inject(AMPORA_CONFIG) config: AmporaConfig) {
    const l = config.limits;
    this.yaml = {
      maxBytes: l.configMaxBytes,
      maxDepth: l.configMaxDepth,
      maxNodes: l.configMaxNodes,
      maxAliases: l.configMaxAliases,
      maxAliasExpansion: l.configMaxAliasExpansion,
      maxTokens: l.configMaxTokens,
    };
  }

  /** The first limit the text exceeds, or undefined (never parses it). */
  check(text: string): Promise<YamlLimitViolation | undefined> {
    return scanYamlLimitsAsync(text, this.yaml);
  }

  /** Refuses an untrusted text over a limit (422, code naming the limit), counted. */
  async assertWithin(text: string, at: { tenantId: string; source: 'version' | 'assignment' }): Promise<void> {
    const v = await this.check(text);
    if (v) throw this.refusal(v, at);
  }

  /** Refuses a parsed document whose aliases expand beyond the limit (or into a cycle), counted. */
  assertExpansion(doc: Document, at: { tenantId: string; source: 'version' | 'assignment' }): void {
    const v = aliasExpansionViolation(doc, this.yaml);
    if (v) throw this.refusal(v, at);
  }

  /** Parses and checks an untrusted text; a text over a limit is refused (422, code naming the limit), counted. */
  async parse(text: string, at: { tenantId: string; source: 'version' | 'assignment' }, options: { available?: AvailableComponents } = {}): Promise<ParsedConfig> {
    await this.assertWithin(text, at);
    const parsed = parseCollectorConfig(text, { ...options, limits: this.yaml, scanned: true });
    if (parsed.limit) throw this.refusal(parsed.limit, at);
    return parsed;
  }

  private refusal(v: YamlLimitViolation, at: { tenantId: string; source: string }): FleetException {
    Metrics.add('ampora_config_limit_exceeded_total', 1, { tenant: TenantLabels.of(at.tenantId), source: at.source, limit: v.limit });
    return configLimitException(v);
  }
}
