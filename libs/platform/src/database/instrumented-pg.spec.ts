import { queryLabel } from './instrumented-pg';

describe('queryLabel', () => {
  it.each([
    ['SELECT "t"."id" AS "t_id" FROM "api_tokens" "t" WHERE "t"."id" = $1', 'select api_tokens'],
    ['INSERT INTO "audit_events"("id") VALUES (DEFAULT)', 'insert audit_events'],
    ['UPDATE "agents" SET "last_seen" = $1', 'update agents'],
    ['DELETE FROM public.sessions WHERE x', 'delete sessions'],
    ['START TRANSACTION', 'start'],
    ['COMMIT', 'commit'],
    ['SELECT 1', 'select'],
    ['VACUUM', 'other'],
  ])('%s → %s', (sql, label) => {
    expect(queryLabel(sql)).toBe(label);
  });
});
