import type { DesiredConfig } from '../ports';

/** The desired configs sessions hold now, by hash: each entry goes when no session holds it any more. */
const sharedByHash = new Map<string, WeakRef<DesiredConfig>>();
const forget = new FinalizationRegistry<string>((hash) => {
  if (sharedByHash.get(hash)?.deref() === undefined) sharedByHash.delete(hash);
});

/**
 * The one DesiredConfig object of `hash` while any session holds it; `files` is called only when none
 * does. Ten thousand agents assigned one config hold one copy of its files, decoded once, and share
 * its remote config part and that part's encoding (decision 0427). The hash names the content
 * (configMapHash of the files), so one hash is one content.
 */
export function sharedDesiredConfig(hash: string, files: () => DesiredConfig['files']): DesiredConfig {
  const known = sharedByHash.get(hash)?.deref();
  if (known) return known;
  const made: DesiredConfig = { files: files(), hash };
  sharedByHash.set(hash, new WeakRef(made));
  forget.register(made, hash);
  return made;
}
