import type { ContentfulStatusCode } from 'hono/utils/http-status';

/**
 * The one error type of QuickDeal's HTTP APIs. Thrown anywhere in a request; the shared error
 * handler turns it into `{error: {code, message, requestId, ...details}}` with its status.
 */
export class AppError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'AppError';
  }
}

export const errors = {
  badRequest: (code: string, message: string, details?: Record<string, unknown>) => new AppError(400, code, message, details),
  unauthorized: (code: string, message: string) => new AppError(401, code, message, {}, { 'WWW-Authenticate': 'Bearer' }),
  forbidden: (code: string, message: string) => new AppError(403, code, message),
  notFound: (code: string, message: string) => new AppError(404, code, message),
  conflict: (code: string, message: string, details?: Record<string, unknown>) => new AppError(409, code, message, details),
  gone: (code: string, message: string, details?: Record<string, unknown>) => new AppError(410, code, message, details),
  tooManyRequests: (retryAfterSeconds: number, message = 'Too many requests; try again shortly', code = 'RATE_LIMITED') =>
    new AppError(429, code, message, { retryAfterSeconds }, { 'Retry-After': String(retryAfterSeconds) }),
  unavailable: (code: string, message: string, retryAfterSeconds = 1) =>
    new AppError(503, code, message, { retryAfterSeconds }, { 'Retry-After': String(retryAfterSeconds) }),
};
