import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import { AMPORA_CONFIG, AmporaConfig, Metrics, TenantLabels } from '@ampora/platform';
import { FleetErrorCode, FleetException } from '../fleet.errors';
import { ConfigWork, ConfigWorkAborted } from './config-work';
import type { AvailableComponents, Finding, ParsedConfig } from './domain/collector-config';
import type { ConfigDiff } from './domain/config-diff';
import { scanYamlLimitsAsync, YamlLimit, YamlLimits, YamlLimitViolation } from './domain/yaml-limits';

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

type Source = 'version' | 'assignment';

/**
 * The configured bounds of configuration texts (decision 0130), and the one way untrusted YAML is
 * parsed: a token scan on the event loop that yields every slice (refusing what exceeds a limit),
 * then the parse, checks and diffs in a worker thread with a time and heap limit, so that no request
 * holds the event loop whatever it sends.
 */
@Injectable()
export class ConfigTextLimits implements OnModuleDestroy {
  readonly yaml: YamlLimits;
  private readonly work: ConfigWork;

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
    this.work = new ConfigWork({ timeoutMs: l.configParseTimeoutMs, maxHeapMb: l.configParseMaxHeapMb });
  }

  async onModuleDestroy(): Promise<void> {
    await this.work.close();
  }

  /** The first limit the text exceeds, or undefined (never parses it). */
  check(text: string): Promise<YamlLimitViolation | undefined> {
    return scanYamlLimitsAsync(text, this.yaml);
  }

  /** Refuses an untrusted text over a limit (422, code naming the limit), counted. */
  async assertWithin(text: string, at: { tenantId: string; source: Source }): Promise<void> {
    const v = await this.check(text);
    if (v) throw this.refusal(v, at);
  }

  /**
   * Parses and checks an untrusted text; a text over a limit is refused (422, code naming the limit), counted.
   * With `document`, the result carries the parsed document too (one parse serves the checks and the lint rules).
   */
  async parse(text: string, at: { tenantId: string; source: Source }, options: { document?: boolean } = {}): Promise<ParsedConfig> {
    await this.assertWithin(text, at);
    const parsed = await this.inWorker(this.work.run({ op: 'parse', text, options: { limits: this.yaml, scanned: true, ...(options.document ? { document: true } : {}) } }), at);
    if (parsed.limit) throw this.refusal(parsed.limit, at);
    return parsed;
  }

  /** Findings of a stored text (checked against an agent's components), computed off the event loop. */
  async findings(text: string, available?: AvailableComponents): Promise<Finding[]> {
    return (await this.parseStored(text, { available })).findings;
  }

  /** A stored text parsed and checked off the event loop (against an agent's components when given; with its document when asked). */
  parseStored(text: string, options: { available?: AvailableComponents; document?: boolean } = {}): Promise<ParsedConfig> {
    return this.inWorker(this.work.run({ op: 'parse', text, options: { available: options.available, limits: this.yaml, ...(options.document ? { document: true } : {}) } }));
  }

  /** Text and semantic diff of two stored texts, computed off the event loop. */
  diff(from: string, to: string, labels: { from: string; to: string }): Promise<ConfigDiff> {
    return this.inWorker(this.work.run({ op: 'diff', from, to, labels, limits: this.yaml }));
  }

  private async inWorker<T>(job: Promise<T>, at?: { tenantId: string; source: Source }): Promise<T> {
    try {
      return await job;
    } catch (error) {
      if (!(error instanceof ConfigWorkAborted)) throw error;
      const v: YamlLimitViolation = { limit: 'tokens', max: this.yaml.maxTokens, message: `the configuration is too complex to analyse (${error.message})` };
      throw at ? this.refusal(v, at) : configLimitException(v);
    }
  }

  private refusal(v: YamlLimitViolation, at: { tenantId: string; source: string }): FleetException {
    Metrics.add('ampora_config_limit_exceeded_total', 1, { tenant: TenantLabels.of(at.tenantId), source: at.source, limit: v.limit });
    return configLimitException(v);
  }
}
