import { Inject, Injectable, Optional } from '@nestjs/common';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { AMPORA_CONFIG, AmporaConfig, resolveMasterKeys, SecretBox } from '@ampora/platform';
import { baseGitEnvironment, gitAccessEnvironment, normaliseSshKey } from '../domain/git-access';
import type { CredentialKind } from '../entities/git-source.entity';
import { GitCli, GitSpawnHook } from './git-cli';
import { GitMirror, MirrorAccess } from './git-mirror';

/** Optional hook told of every git process a sweep spawns (tests record them). */
export const GIT_SPAWN_HOOK = Symbol('GIT_SPAWN_HOOK');

export interface SourceAccess {
  id: string;
  credentialKind: CredentialKind;
  credentialSealed: Buffer | null;
}

/**
 * Where sweeps keep their bare caches (`<AMPORA_DATA_DIR>/gitops/`), and the credentials: sealed under
 * the master key at rest, opened only for the length of one sweep into the git environment (an SSH
 * key into a 0600 file in a private temporary directory, removed afterwards).
 */
@Injectable()
export class GitWorkspace {
  private readonly box: SecretBox;
  private readonly root: string;
  private readonly cli: GitCli;

  constructor(
    @Inject(AMPORA_CONFIG) private readonly config: AmporaConfig,
    @Optional() @Inject(GIT_SPAWN_HOOK) hook?: GitSpawnHook | null,
  ) {
    this.box = new SecretBox(resolveMasterKeys(config));
    this.root = join(resolve(config.storage.dataDir), 'gitops');
    this.cli = new GitCli(config.gitops.gitBinary, hook ?? undefined);
  }

  seal(sourceId: string, secret: string): Buffer {
    return this.box.seal(Buffer.from(secret, 'utf8'), context(sourceId));
  }

  mirror(sourceId: string): GitMirror {
    return new GitMirror(this.cli, join(this.root, `${sourceId}.git`));
  }

  async removeCache(sourceId: string): Promise<void> {
    await rm(join(this.root, `${sourceId}.git`), { recursive: true, force: true });
    await rm(join(this.root, `${sourceId}.known_hosts`), { force: true });
  }

  /** Runs `work` with the source's access (environment and secret files), then removes the files. */
  async withAccess<T>(source: SourceAccess, work: (access: MirrorAccess) => Promise<T>): Promise<T> {
    await mkdir(this.root, { recursive: true, mode: 0o700 });
    const scratch = await mkdtemp(join(this.root, '.access-'));
    try {
      const secret = source.credentialSealed ? this.box.open(source.credentialSealed, context(source.id)).plaintext.toString('utf8') : undefined;
      const keyFile = join(scratch, 'id');
      if (source.credentialKind === 'SshKey' && secret !== undefined) await writeFile(keyFile, normaliseSshKey(secret), { mode: 0o600 });
      const strict = Boolean(this.config.gitops.sshKnownHostsFile);
      const env = {
        ...baseGitEnvironment(scratch),
        ...gitAccessEnvironment({
          kind: source.credentialKind,
          secret,
          keyFile,
          knownHostsFile: strict ? resolve(this.config.gitops.sshKnownHostsFile!) : join(this.root, `${source.id}.known_hosts`),
          strictHostKeys: strict,
        }),
      };
      return await work({ env, timeoutMs: this.config.gitops.gitTimeoutSeconds * 1000, redact: secret ? [secret, ...secret.split(':')].filter((w) => w.length >= 4) : [] });
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  }
}

function context(sourceId: string): string {
  return `gitops_sources:${sourceId}`;
}
