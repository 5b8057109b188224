import { randomBytes } from 'node:crypto';

/** A name no other test file (or earlier run) uses: for deals, topics, namespaces, leases. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}
