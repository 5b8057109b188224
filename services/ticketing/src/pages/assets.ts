/**
 * The pages' scripts and stylesheet: hand-written ES modules and CSS in services/ticketing/public,
 * read once at start-up and served from memory. The folder is found from this module's own URL,
 * two levels up from src/pages (tsx in development) and from dist/pages (node in the image) alike.
 */
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

export const defaultPublicDir = fileURLToPath(new URL('../../public/', import.meta.url));

export interface Asset {
  body: string;
  /** The body gzipped once at start-up (about a third of the size). */
  gzipped: Uint8Array;
  contentType: string;
  etag: string;
}

export interface AssetBundle {
  /** A hash of every file: the path segment that makes their URLs immutable. */
  version: string;
  files: Map<string, Asset>;
}

const contentTypes: Record<string, string> = { js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8' };
const assetName = /^[a-z0-9-]+\.(js|css)$/;

export function isAssetName(name: string): boolean {
  return assetName.test(name);
}

export function loadAssets(dir = defaultPublicDir): AssetBundle {
  const files = new Map<string, Asset>();
  const all = createHash('sha256');
  let names: string[];
  try {
    names = readdirSync(dir).filter(isAssetName).sort();
  } catch (error) {
    throw new Error(`the waiting-room pages' assets are missing: ${dir} could not be read (${(error as Error).message})`);
  }
  for (const name of names) {
    const body = readFileSync(`${dir}/${name}`, 'utf8');
    const hash = createHash('sha256').update(body).digest('base64url').slice(0, 16);
    all.update(name).update(hash);
    files.set(name, {
      body,
      gzipped: gzipSync(body, { level: 9 }),
      contentType: contentTypes[name.split('.').pop() ?? ''] ?? 'application/octet-stream',
      etag: `"${hash}"`,
    });
  }
  for (const required of ['qd.css', 'room.js', 'checkout.js']) {
    if (!files.has(required)) throw new Error(`the waiting-room pages' asset ${required} is missing from ${dir}`);
  }
  return { version: all.digest('base64url').slice(0, 12), files };
}
