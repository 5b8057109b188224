// Types of dev/node-runtime.mjs for the TypeScript that uses it (dev/src/images).
export declare const NODE24_VERSION: string;
export declare const NODE24_NPM_VERSION: string;
export declare function cacheDir(): string;
export declare function ensureNode24(): string;
export declare function ensureNode24NpmTarball(): string;
