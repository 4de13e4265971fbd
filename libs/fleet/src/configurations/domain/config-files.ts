import { configContentHash, ConfigFiles, desiredConfig } from '@ampora/opamp';
import type { StoredConfigFiles } from '../../agents/entities/agent.entity';
import { toStoredFiles } from '../../agents/domain/stored-config';

/** The content type and file name under which a single YAML config is sent to agents. */
export const YAML_CONTENT_TYPE = 'text/yaml';
export const CONFIG_FILE_KEY = '';

/** A YAML text as the config map agents receive, with its hashes (the text is kept byte-for-byte). */
export function yamlConfig(yaml: string): { files: ConfigFiles; stored: StoredConfigFiles; configHash: string; contentHash: string } {
  const files: ConfigFiles = { [CONFIG_FILE_KEY]: { body: Buffer.from(yaml, 'utf8'), contentType: YAML_CONTENT_TYPE } };
  return { files, stored: toStoredFiles(files), configHash: desiredConfig(files).hash, contentHash: configContentHash(files) };
}
