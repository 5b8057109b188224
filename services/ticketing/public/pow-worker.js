// @ts-check
/* global self */
/**
 * Solves a deal's proof-of-work challenge off the page's main thread, so the page never freezes.
 * The challenge is ALTCHA's (altcha-lib on the server, SHA-256, uint32 counter): find the counter
 * whose key, SHA-256 applied `cost` times to salt ‖ nonce ‖ counter (4 bytes, big-endian), starts
 * with `keyPrefix`. The same algorithm as altcha-lib's own solver, with the browser's Web Crypto.
 *
 * In:  { challenge: { parameters: { algorithm, nonce, salt, cost, keyLength?, keyPrefix } } }
 * Out: { solution: { counter, derivedKey, time } } or { error }
 */

/** @param {string} hex */
function bytes(hex) {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** @param {Uint8Array} buffer */
const hex = (buffer) => Array.from(buffer, (b) => b.toString(16).padStart(2, '0')).join('');

/**
 * @param {{ algorithm: string, nonce: string, salt: string, cost: number, keyLength?: number, keyPrefix: string }} parameters
 * @returns {Promise<{ counter: number, derivedKey: string, time: number }>}
 */
async function solve(parameters) {
  if (parameters.algorithm !== 'SHA-256') throw new Error(`unsupported algorithm ${parameters.algorithm}`);
  const started = performance.now();
  const salt = bytes(parameters.salt);
  const nonce = bytes(parameters.nonce);
  const keyLength = parameters.keyLength ?? 32;
  const prefix = parameters.keyPrefix.toLowerCase();
  const rounds = Math.max(1, parameters.cost);
  const input = new Uint8Array(new ArrayBuffer(salt.length + nonce.length + 4));
  input.set(salt, 0);
  input.set(nonce, salt.length);
  const counterAt = new DataView(input.buffer, salt.length + nonce.length, 4);
  for (let counter = 0; counter <= 0xffffffff; counter++) {
    counterAt.setUint32(0, counter, false);
    /** @type {Uint8Array<ArrayBuffer>} */
    let key = input;
    for (let i = 0; i < rounds; i++) key = new Uint8Array(await crypto.subtle.digest('SHA-256', key));
    const derivedKey = hex(key.slice(0, keyLength));
    if (derivedKey.startsWith(prefix)) return { counter, derivedKey, time: Math.round(performance.now() - started) };
  }
  throw new Error('no solution');
}

self.onmessage = (event) => {
  solve(event.data.challenge.parameters).then(
    (solution) => self.postMessage({ solution }),
    (error) => self.postMessage({ error: String(error) }),
  );
};
