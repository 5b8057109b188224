import { ApiException, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';

/** Patches default to JSON Patch in @kubernetes/client-node; a merge patch needs its Content-Type said. */
export const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

/** Who the operator's writes belong to in managedFields (otherwise the client's User-Agent, `node-fetch`). */
export const fieldManager = 'quickdeal-operator';

export function apiStatusOf(error: unknown): number | undefined {
  return error instanceof ApiException ? (error as ApiException<unknown>).code : undefined;
}

export const isNotFound = (error: unknown) => apiStatusOf(error) === 404;
export const isConflict = (error: unknown) => apiStatusOf(error) === 409;

/** The API server's own message (ApiException's body is the Status object as a JSON string). */
export function describeApiError(error: unknown): string {
  if (error instanceof ApiException) {
    const body = (error as ApiException<unknown>).body;
    try {
      const status = (typeof body === 'string' ? JSON.parse(body) : body) as { message?: string };
      if (status?.message) return `${error.code}: ${status.message}`;
    } catch {
      // not JSON: fall through
    }
    return `${error.code}: ${typeof body === 'string' ? body.slice(0, 300) : error.message}`;
  }
  return error instanceof Error ? error.message : String(error);
}
