/** With autoPublish, a path prefix names the group a new Published version rolls out to. */
export interface GroupAssignment {
  pathPrefix: string;
  groupId: string;
}

export const MAX_GROUP_ASSIGNMENTS = 100;

/** The group of the longest prefix the path starts with (`''` matches every path), if any. */
export function groupForPath(assignments: readonly GroupAssignment[], path: string): string | undefined {
  let best: GroupAssignment | undefined;
  for (const a of assignments) {
    if (path.startsWith(a.pathPrefix) && (!best || a.pathPrefix.length > best.pathPrefix.length)) best = a;
  }
  return best?.groupId;
}
