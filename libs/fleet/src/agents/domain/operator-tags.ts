/** At most this many operator tags per agent. */
export const MAX_TAGS = 64;
/** Longest tag key. */
export const MAX_TAG_KEY = 63;
/** Longest tag value. */
export const MAX_TAG_VALUE = 255;

/**
 * A tag key: letters, digits, `.`, `_`, `-` and `/`, starting and ending with a letter or digit
 * (`team`, `cost-center`, `example.com/owner`), so that it reads as a path in a selector (`tag.team`)
 * and as `key=value` in a list filter.
 */
const KEY = /^[A-Za-z0-9](?:[A-Za-z0-9._/-]*[A-Za-z0-9])?$/;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

export interface TagProblem {
  /** `tags` or `tags.<key>`. */
  field: string;
  message: string;
}

/** What is wrong with a set of operator tags (empty when they are acceptable). */
export function tagProblems(tags: Record<string, unknown>): TagProblem[] {
  const problems: TagProblem[] = [];
  const keys = Object.keys(tags);
  if (keys.length > MAX_TAGS) problems.push({ field: 'tags', message: `at most ${MAX_TAGS} tags (got ${keys.length})` });
  for (const key of keys) {
    const value = tags[key];
    const field = `tags.${key}`;
    if (key.length > MAX_TAG_KEY) problems.push({ field, message: `a tag key has at most ${MAX_TAG_KEY} characters` });
    else if (!KEY.test(key)) problems.push({ field, message: 'a tag key is letters, digits, ".", "_", "-" and "/", starting and ending with a letter or digit' });
    if (typeof value !== 'string') problems.push({ field, message: 'a tag value is a string' });
    else if (value.length > MAX_TAG_VALUE) problems.push({ field, message: `a tag value has at most ${MAX_TAG_VALUE} characters` });
    else if (CONTROL.test(value)) problems.push({ field, message: 'a tag value has no control characters' });
  }
  return problems;
}
