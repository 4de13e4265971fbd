/** An RFC 9457 problem answer of the Ampora API (application/problem+json with a stable `code`). */
export interface Problem {
  type?: string;
  title: string;
  status: number;
  detail?: string;
  code?: string;
  errors?: Array<{ path?: string; message?: string; line?: number; column?: number }>;
  [key: string]: unknown;
}

/** A failed API call: its problem, or one made up from the status when the body was not a problem. */
export class ApiError extends Error {
  constructor(readonly problem: Problem) {
    super(problem.detail ? `${problem.title}: ${problem.detail}` : problem.title);
    this.name = 'ApiError';
  }

  get status(): number {
    return this.problem.status;
  }

  get code(): string | undefined {
    return this.problem.code;
  }
}

/** Reads a non-2xx answer into an ApiError, whatever its body. */
export async function toApiError(res: Response): Promise<ApiError> {
  const text = await res.text().catch(() => '');
  try {
    const body = JSON.parse(text) as Partial<Problem>;
    if (body && typeof body.title === 'string') return new ApiError({ ...body, title: body.title, status: body.status ?? res.status });
  } catch {
    // not JSON
  }
  return new ApiError({ title: res.statusText || `HTTP ${res.status}`, status: res.status, detail: text.slice(0, 300) || undefined });
}
