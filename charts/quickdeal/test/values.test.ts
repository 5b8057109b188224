/**
 * values.yaml and values.schema.json agree: every key is documented with a `# --` comment, every
 * key has a place in the schema, and the objects the chart owns reject keys they do not have.
 * (Helm's own validation against the schema runs in chart.k8s.test.ts.)
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isMap, isScalar, isSeq, parseDocument, type Pair, type YAMLMap } from 'yaml';
import { describe, expect, it } from 'vitest';
import { chartDir } from './support/chart.js';

interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  additionalProperties?: boolean | JsonSchema;
  $ref?: string;
  definitions?: Record<string, JsonSchema>;
}

const schema = JSON.parse(readFileSync(join(chartDir, 'values.schema.json'), 'utf8')) as JsonSchema;
const values = parseDocument(readFileSync(join(chartDir, 'values.yaml'), 'utf8'));

function resolve(node: JsonSchema): JsonSchema {
  if (!node.$ref) return node;
  const name = node.$ref.replace('#/definitions/', '');
  const target = schema.definitions?.[name];
  if (!target) throw new Error(`values.schema.json: ${node.$ref} does not exist`);
  return resolve(target);
}

/** Maps whose keys are the user's or Kubernetes's (labels, env, resources): documented as one value. */
function isFreeForm(node: JsonSchema): boolean {
  return node.$ref === '#/definitions/resources' || resolve(node).properties === undefined || resolve(node).additionalProperties !== false;
}

interface Key {
  path: string;
  pair: Pair;
  comment: string; // the comment lines above the key
  schema: JsonSchema | undefined;
}

function walk(map: YAMLMap, node: JsonSchema, prefix: string, keys: Key[], mapComment: string): void {
  for (const [index, pair] of map.items.entries()) {
    const name = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
    const path = prefix ? `${prefix}.${name}` : name;
    const raw = node.properties?.[name];
    const child = raw && !isFreeForm(raw) ? resolve(raw) : raw;
    // The parser gives the comment above a map's first key to the map itself.
    const comment = [index === 0 ? mapComment : '', (pair.key as { commentBefore?: string }).commentBefore ?? ''].join('\n');
    keys.push({ path, pair, comment, schema: child });
    if (child && isMap(pair.value) && !isFreeForm(child)) walk(pair.value, child, path, keys, pair.value.commentBefore ?? '');
  }
}

const keys: Key[] = [];
walk(values.contents as YAMLMap, schema, '', keys, `${values.commentBefore ?? ''}\n${(values.contents as YAMLMap).commentBefore ?? ''}`);

describe('values.yaml', () => {
  it('documents every value with a `# --` comment', () => {
    const undocumented = keys
      .filter(({ pair, schema: node }) => !(node && isMap(pair.value) && !isFreeForm(node))) // sections are documented by their keys
      .filter(({ comment }) => !/(^|\n)\s*-- \S/.test(comment))
      .map(({ path }) => path);
    expect(undocumented).toEqual([]);
  });

  it('has every key in values.schema.json', () => {
    expect(keys.filter((key) => !key.schema).map((key) => key.path)).toEqual([]);
  });

  it('is valid against the schema’s types at the top level of every value', () => {
    const typeOf = (value: unknown) =>
      Array.isArray(value) ? 'array' : value === null ? 'null' : Number.isInteger(value) ? 'integer' : typeof value;
    for (const { path, pair, schema: node } of keys) {
      const type = node ? resolve(node).type : undefined;
      if (!type) continue;
      const value = isScalar(pair.value) ? pair.value.value : isSeq(pair.value) ? [] : {};
      const allowed = Array.isArray(type) ? type : [type];
      const actual = typeOf(value);
      expect(
        allowed.includes(actual) || (actual === 'integer' && allowed.includes('number')),
        `${path}: ${actual} is not ${allowed.join('|')}`,
      ).toBe(true);
    }
  });
});

describe('values.schema.json', () => {
  it('rejects unknown keys on every object the chart owns', () => {
    const open: string[] = [];
    const visit = (node: JsonSchema, path: string) => {
      const resolved = resolve(node);
      if (resolved.properties === undefined) return;
      if (resolved.additionalProperties !== false) open.push(path || '(root)');
      for (const [name, child] of Object.entries(resolved.properties)) visit(child, path ? `${path}.${name}` : name);
    };
    visit(schema, '');
    expect(open).toEqual([]);
    expect(schema.additionalProperties).toBe(false);
  });
});
