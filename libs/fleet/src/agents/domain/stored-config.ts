import type { ConfigFiles } from '@ampora/opamp';
import type { StoredConfigFiles } from '../entities/agent.entity';

/** Config files as stored in JSONB: base64 bodies, so the bytes round-trip exactly. */
export function toStoredFiles(files: ConfigFiles): StoredConfigFiles {
  const out: StoredConfigFiles = {};
  for (const [k, f] of Object.entries(files)) out[k] = { contentType: f.contentType, body: Buffer.from(f.body).toString('base64') };
  return out;
}

export function fromStoredFiles(stored: StoredConfigFiles): ConfigFiles {
  const out: ConfigFiles = {};
  for (const [k, f] of Object.entries(stored)) out[k] = { contentType: f.contentType, body: Buffer.from(f.body, 'base64') };
  return out;
}
