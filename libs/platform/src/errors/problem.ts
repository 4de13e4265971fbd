import { z } from 'zod';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** RFC 9457 problem details, with Ampora's stable `code` and the trace of the failed request. */
export const ProblemSchema = z
  .object({
    type: z.string().describe('A URI that identifies the problem type'),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    code: z.string().describe('Stable machine-readable error code, for example VALIDATION_FAILED'),
    traceId: z.string().optional().describe('W3C trace id of the request'),
    errorId: z.string().optional().describe('Present on 500 answers; quote it when reporting the error'),
    errors: z
      .array(z.object({ field: z.string(), message: z.string() }))
      .optional()
      .describe('Every invalid field, on VALIDATION_FAILED'),
  })
;

export type Problem = z.infer<typeof ProblemSchema>;

export function problemType(code: string): string {
  return `urn:ampora:problem:${code.toLowerCase().replace(/_/g, '-')}`;
}
