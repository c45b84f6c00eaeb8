/**
 * A request the server refuses, answered with OpenAI's error body
 * `{"error": {"message", "type", "param", "code"}}` (the shape the `openai` client parses into
 * its APIError), whatever the route: the task routes use it too, so clients see one error format.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type: string,
    readonly param: string | null = null,
    readonly code: string | null = null,
    /** Extra response headers (Retry-After on 429, WWW-Authenticate on 401). */
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }

  body(): { error: { message: string; type: string; param: string | null; code: string | null } } {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

/** 400 for a request whose JSON does not fit the route's schema; `param` names the field (dotted path). */
export const invalidRequest = (message: string, param: string | null = null, code: string | null = null): ApiError =>
  new ApiError(400, message, 'invalid_request_error', param, code);

/** Any error as an ApiError: an engine failure becomes a 500 naming what failed. */
export function asApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new ApiError(500, `the model failed on this request: ${message}`, 'server_error', null, 'engine_error');
}
