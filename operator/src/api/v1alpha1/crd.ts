/**
 * The QuickDeal CustomResourceDefinition, generated from the one schema of the spec
 * (`quickDealSpecSchema` in @quickdeal/core): zod's JSON Schema, made structural for the API
 * server, with CEL rules for what JSON Schema cannot say (the spec's refinements, and patterns
 * whose message the schema names). `npm run generate -w operator` writes it to manifests/crd/;
 * a unit test fails when the committed file is stale.
 */
import { z } from 'zod';
import { stringify } from 'yaml';
import { dealIdSchema, quickDealSpecSchema, specLimits } from '@quickdeal/core';
import { conditionTypes, group, kind, plural, shortName, singular, version } from './quickdeal.js';

type JsonSchema = { [key: string]: unknown };
interface CelRule {
  rule: string;
  message: string;
  fieldPath?: string;
}

/** The committed manifest's path, relative to the repository root. */
export const crdManifestFile = `manifests/crd/${group}_${plural}.yaml`;
export const crdName = `${plural}.${group}`;

/** Strings checked by a CEL rule get this bound when the schema has none, so the API server can bound the rule's cost. */
const celStringMaxLength = 64;

/**
 * A duration of at least one second, summed in CEL from its parts (`1h30m`, `1500ms`, `2d`). A
 * string with no parts is left to the duration pattern's own rule, so it gets one message.
 */
const durationSeconds = (field: string, comparison: string) => {
  const parts = `${field}.findAll(r'[0-9]+(\\.[0-9]+)?(ms|s|m|h|d)')`;
  const seconds = `double(p.find(r'[0-9]+(\\.[0-9]+)?')) * (p.endsWith('ms') ? 0.001 : p.endsWith('s') ? 1.0 : p.endsWith('m') ? 60.0 : p.endsWith('h') ? 3600.0 : 86400.0)`;
  return `${parts}.size() == 0 || ${parts}.map(p, ${seconds}).sum() ${comparison}`;
};
const durationAtLeastOneSecond = (field: string) => durationSeconds(field, '>= 1.0');
const durationAtMostLimit = (field: string) => durationSeconds(field, `<= ${(specLimits.durationMs / 1000).toFixed(1)}`);

/**
 * CEL for the spec's refinements, keyed by the refinement's message: zod's `refine` is code, so
 * its rule is written here once more. Generating the CRD fails when a refinement has no entry.
 * `at` is where the rule sits (spec-relative); `self` is the value there.
 */
const refinementRules: Record<string, { at: string[]; rule: string; fieldPath?: string }> = {
  'opensAt must be before closesAt': {
    at: [],
    rule: '!has(self.closesAt) || timestamp(self.closesAt) > timestamp(self.opensAt)',
    fieldPath: '.closesAt',
  },
  'checkoutWindow must be at least 1s': { at: ['admission', 'checkoutWindow'], rule: durationAtLeastOneSecond('self') },
  'ticketTTL must be at least 1s': { at: ['queue', 'ticketTTL'], rule: durationAtLeastOneSecond('self') },
  [`checkoutWindow must be at most ${specLimits.durationText}`]: { at: ['admission', 'checkoutWindow'], rule: durationAtMostLimit('self') },
  [`ticketTTL must be at most ${specLimits.durationText}`]: { at: ['queue', 'ticketTTL'], rule: durationAtMostLimit('self') },
  'prequeue must be at least 1s': { at: ['queue', 'prequeue'], rule: durationAtLeastOneSecond('self') },
  [`prequeue must be at most ${specLimits.durationText}`]: { at: ['queue', 'prequeue'], rule: durationAtMostLimit('self') },
};

interface ZodInternals {
  _zod: {
    def: {
      type: string;
      checks?: ZodInternals[];
      check?: string;
      format?: string;
      pattern?: RegExp;
      error?: (issue?: unknown) => unknown;
      path?: PropertyKey[];
    };
  };
}

const internals = (schema: unknown) => (schema as ZodInternals)._zod.def;

/** The message a check or schema was given in the code (`regex(re, 'message')`), if any. */
function customMessage(def: ZodInternals['_zod']['def']): string | undefined {
  const message = def.error?.({});
  return typeof message === 'string' ? message : undefined;
}

/** Regex checks that carry a message of their own: the API server reports them with that message through CEL. */
function patternsWithMessages(schema: unknown): Array<{ pattern: RegExp; message: string }> {
  const def = internals(schema);
  const found: Array<{ pattern: RegExp; message: string }> = [];
  const candidates = [def, ...(def.checks ?? []).map((check) => internals(check))];
  for (const candidate of candidates) {
    const message = customMessage(candidate);
    if (candidate.pattern instanceof RegExp && message) found.push({ pattern: candidate.pattern, message });
  }
  return found;
}

function celRegex(pattern: RegExp): string {
  if (pattern.source.includes("'")) throw new Error(`crd: the pattern ${pattern.source} has a quote, which a CEL raw string cannot hold`);
  return `r'${pattern.source}'`;
}

/** Removes what a structural schema may not or need not carry, recursively. */
function makeStructural(node: JsonSchema): JsonSchema {
  const result: JsonSchema = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === '$schema') continue;
    if (key === 'additionalProperties' && value === false) continue; // the API server prunes unknown fields and kubectl's strict validation names them
    if (key === 'minimum' && value === Number.MIN_SAFE_INTEGER) continue; // the safe-integer maximum stays: the operator reads numbers as doubles
    if (key === 'properties') {
      result.properties = Object.fromEntries(
        Object.entries(value as Record<string, JsonSchema>).map(([name, child]) => [name, makeStructural(child)]),
      );
    } else if (key === 'items') {
      result.items = makeStructural(value as JsonSchema);
    } else {
      result[key] = value;
    }
  }
  return result;
}

function nodeAt(root: JsonSchema, path: string[]): JsonSchema {
  let node = root;
  for (const name of path) {
    const child = (node.properties as Record<string, JsonSchema> | undefined)?.[name];
    if (!child) throw new Error(`crd: the spec schema has no ${path.join('.')}`);
    node = child;
  }
  return node;
}

function addRule(node: JsonSchema, rule: CelRule): void {
  node['x-kubernetes-validations'] = [...((node['x-kubernetes-validations'] as CelRule[] | undefined) ?? []), rule];
}

/** The spec's OpenAPI v3 schema: structural, with the spec's own messages. */
export function specOpenApiSchema(): JsonSchema {
  const json = z.toJSONSchema(quickDealSpecSchema, {
    io: 'input', // fields with defaults are optional for whoever writes the YAML; the API server fills them in
    override: ({ zodSchema, jsonSchema }) => {
      if (internals(zodSchema).type !== 'string') return;
      for (const { pattern, message } of patternsWithMessages(zodSchema)) {
        if (jsonSchema.pattern === pattern.source) delete jsonSchema.pattern;
        delete jsonSchema.format; // a date-time would reach CEL as a timestamp, not a string
        jsonSchema.maxLength ??= celStringMaxLength;
        addRule(jsonSchema as JsonSchema, { rule: `self.matches(${celRegex(pattern)})`, message });
      }
    },
  }) as JsonSchema;
  const spec = makeStructural(json);
  for (const check of internals(quickDealSpecSchema).checks ?? []) {
    const def = internals(check);
    if (def.check !== 'custom') continue;
    const message = customMessage(def);
    const translation = message ? refinementRules[message] : undefined;
    if (!message || !translation) {
      throw new Error(
        `crd: the spec schema has a refinement (${message ?? 'without a message'}) with no CEL rule; add one to refinementRules in ${import.meta.url}`,
      );
    }
    addRule(nodeAt(spec, translation.at), {
      rule: translation.rule,
      message,
      ...(translation.fieldPath ? { fieldPath: translation.fieldPath } : {}),
    });
  }
  return spec;
}

/** The deal id is the object's name: the root-level rule the API server checks it with. */
function nameRules(): CelRule[] {
  return patternsWithMessages(dealIdSchema).map(({ pattern, message }) => ({
    rule: `self.metadata.name.matches(${celRegex(pattern)})`,
    message,
    fieldPath: '.metadata.name', // without it the API server names the field `<nil>`
  }));
}

const int64 = (description: string) => ({ type: 'integer', format: 'int64', minimum: 0, description });

/** metav1.Condition, as the API's own types declare it. */
const conditionSchema = {
  type: 'object',
  required: ['type', 'status', 'reason', 'message', 'lastTransitionTime'],
  properties: {
    type: { type: 'string', maxLength: 316, enum: [...conditionTypes], description: 'Ready, TopicReady, ConfigSynced or ConsumersScaled' },
    status: { type: 'string', enum: ['True', 'False', 'Unknown'] },
    observedGeneration: int64('The generation the condition was set for'),
    lastTransitionTime: { type: 'string', format: 'date-time', description: 'When the status last changed' },
    reason: {
      type: 'string',
      minLength: 1,
      maxLength: 1024,
      pattern: '^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$',
      description: 'Why, in CamelCase',
    },
    message: { type: 'string', maxLength: 32768, description: 'Why, for people' },
  },
};

const statusSchema = {
  type: 'object',
  description: 'What the operator last saw; written only through the status subresource',
  properties: {
    phase: { type: 'string', enum: ['Scheduled', 'Open', 'Paused', 'SoldOut', 'Closed'], description: 'Where the deal stands' },
    topic: { type: 'string', description: 'The deal’s Kafka topic' },
    waiting: int64('Tickets in the line not yet processed'),
    active: int64('Shoppers holding checkout access'),
    sold: int64('Units sold'),
    remaining: int64('Units not yet sold'),
    draw: {
      type: 'object',
      description: 'The pre-queue’s draw (spec.queue.prequeue): the seed’s SHA-256 before the open, the seed once drawn',
      properties: {
        state: { type: 'string', enum: ['scheduled', 'drawing', 'done'] },
        commitment: { type: 'string', description: 'SHA-256 of the secret seed (hex), published before the open' },
        seed: { type: 'string', description: 'The seed (hex), revealed once the draw is written: see docs/waiting-room.md' },
      },
    },
    observedGeneration: int64('The generation of the spec the status describes'),
    conditions: {
      type: 'array',
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['type'],
      items: conditionSchema,
    },
  },
};

/** The CustomResourceDefinition, as plain data (the YAML's shape). */
export function quickDealCrd() {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: crdName,
      labels: {
        'app.kubernetes.io/name': 'quickdeal',
        'app.kubernetes.io/part-of': 'quickdeal',
        'app.kubernetes.io/component': 'operator',
      },
    },
    spec: {
      group,
      scope: 'Namespaced',
      names: { kind, listKind: `${kind}List`, plural, singular, shortNames: [shortName], categories: ['quickdeal'] },
      versions: [
        {
          name: version,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: [
            { name: 'Phase', type: 'string', jsonPath: '.status.phase' },
            { name: 'Stock', type: 'integer', jsonPath: '.spec.stock' },
            { name: 'Sold', type: 'integer', jsonPath: '.status.sold' },
            { name: 'Waiting', type: 'integer', jsonPath: '.status.waiting' },
            { name: 'Active', type: 'integer', jsonPath: '.status.active' },
            { name: 'Opens', type: 'string', jsonPath: '.spec.opensAt', priority: 1 },
            { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status', priority: 1 },
            { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
          ],
          schema: {
            openAPIV3Schema: {
              type: 'object',
              description: 'A flash sale: a product, its stock and the time it opens; the operator runs its waiting room',
              required: ['spec'],
              properties: {
                apiVersion: { type: 'string' },
                kind: { type: 'string' },
                // Declared so the name rule's fieldPath can point at it (the only metadata a CRD may constrain).
                metadata: { type: 'object', properties: { name: { type: 'string' } } },
                spec: { ...specOpenApiSchema(), description: 'The deal as its operators declare it' },
                status: statusSchema,
              },
              'x-kubernetes-validations': nameRules(),
            },
          },
        },
      ],
    },
  };
}

/** The committed YAML's exact text. */
export function quickDealCrdYaml(): string {
  const header = `# Generated from quickDealSpecSchema (services/core/src/deal-spec.ts) by operator/src/api/v1alpha1/crd.ts.\n# Do not edit: run \`npm run generate -w operator\`.\n`;
  return header + stringify(quickDealCrd(), { lineWidth: 0 });
}
