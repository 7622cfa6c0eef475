/**
 * zod schemas (the zod v3 API a host passes as `z`) from the component schemas of the KubeAI
 * OpenAPI spec (the spec module the backend's router validates with, `schema/openapi.generated.ts`),
 * for the inputs of the `kubeai:*` actions.
 *
 * What is carried over: types (including `[integer, string]` unions and `null`), enums, objects
 * (properties, `required`, maps from `additionalProperties`), arrays, descriptions and the spec's
 * `examples` (appended to the description as `E.g. …`). What is not: `pattern`, `minLength`,
 * `maxLength`, `minimum`, `maximum`, item and property counts — the API checks them and answers
 * a 400 naming the field (`request/body/name must match pattern …`), which is the message a
 * template author should see rather than a scaffolder validation error.
 *
 * For template parameters, an optional object or array may also be `null` (an unset parameter);
 * the actions prune nulls and empty strings before calling the API.
 */
import type { z as zod } from 'zod/v3';
import { kubeaiOpenApiSpec } from '../schema/openapi.generated';

type Z = typeof zod;
type JsonSchema = { [key: string]: any };

/** `components.schemas` of the KubeAI OpenAPI document (JSON Schema, OpenAPI 3.1). */
export const kubeaiSchemas = kubeaiOpenApiSpec.components.schemas;

/** The name of a component schema of the KubeAI API. */
export type KubeaiSchemaName = keyof typeof kubeaiSchemas;

const schemas = kubeaiSchemas as unknown as Record<string, JsonSchema>;

/** How to convert. */
export interface SpecZodOptions {
  /**
   * Replaces the conversion of a component schema wherever it is referenced (e.g. a
   * `DatasetMount` that may also be a plain entity-ref string).
   */
  refs?: Partial<Record<KubeaiSchemaName, (z: Z) => zod.ZodTypeAny>>;
}

/** The component schema `name`. */
export function specComponent(name: KubeaiSchemaName): JsonSchema {
  const schema = schemas[name];
  if (!schema) throw new Error(`No component schema ${name}`);
  return schema;
}

function refTarget(schema: JsonSchema): KubeaiSchemaName | undefined {
  if (!schema.$ref) return undefined;
  const m = /^#\/components\/schemas\/(.+)$/.exec(schema.$ref);
  if (!m) throw new Error(`Unsupported $ref ${schema.$ref}`);
  return m[1] as KubeaiSchemaName;
}

/** The schema behind any `$ref`s (the referring schema's own keywords are kept when it has them). */
export function resolveSpecSchema(schema: JsonSchema): JsonSchema {
  const name = refTarget(schema);
  if (!name) return schema;
  const { $ref: _ref, ...own } = schema;
  return { ...resolveSpecSchema(specComponent(name)), ...own };
}

/** A schema's description (or that of the schema it refers to), with its examples. */
export function specDescription(schema: JsonSchema): string | undefined {
  const resolved = resolveSpecSchema(schema);
  const text = resolved.description
    ? String(resolved.description)
        .trim()
        .replace(/\s*\n\s*/g, ' ')
    : '';
  const examples: unknown[] = Array.isArray(resolved.examples)
    ? resolved.examples
    : [];
  const eg = examples.length
    ? `E.g. ${examples.map(e => JSON.stringify(e)).join(', ')}.`
    : '';
  return [text, eg].filter(Boolean).join(' ') || undefined;
}

function typesOf(schema: JsonSchema): string[] {
  if (schema.enum) return [];
  if (Array.isArray(schema.type)) return schema.type;
  return schema.type ? [schema.type] : [];
}

/** Whether an unset template parameter (`null`) is accepted for it: objects and arrays. */
function isContainer(schema: JsonSchema): boolean {
  return typesOf(resolveSpecSchema(schema)).some(
    t => t === 'object' || t === 'array',
  );
}

function convert(
  z: Z,
  schema: JsonSchema,
  options: SpecZodOptions,
): zod.ZodTypeAny {
  const name = refTarget(schema);
  if (name) {
    const replace = options.refs?.[name];
    return replace ? replace(z) : convert(z, specComponent(name), options);
  }
  if (Array.isArray(schema.enum)) {
    const values = schema.enum as unknown[];
    if (values.every(v => typeof v === 'string')) {
      return z.enum(values as [string, ...string[]]);
    }
    const literals = values.map(v => z.literal(v as any));
    return literals.length === 1
      ? literals[0]
      : z.union(literals as unknown as [zod.ZodTypeAny, zod.ZodTypeAny]);
  }
  const types = typesOf(schema);
  const parts = types
    .filter(t => t !== 'null')
    .map(t => convertType(z, t, schema, options));
  let result: zod.ZodTypeAny;
  if (parts.length === 0) result = z.unknown();
  else if (parts.length === 1) result = parts[0];
  else result = z.union(parts as [zod.ZodTypeAny, zod.ZodTypeAny]);
  return types.includes('null') ? result.nullable() : result;
}

function convertType(
  z: Z,
  type: string,
  schema: JsonSchema,
  options: SpecZodOptions,
): zod.ZodTypeAny {
  switch (type) {
    case 'string':
      return z.string();
    case 'integer':
      return z.number().int();
    case 'number':
      return z.number();
    case 'boolean':
      return z.boolean();
    case 'array':
      return z.array(
        withDescription(
          convert(z, schema.items ?? {}, options),
          schema.items ?? {},
        ),
      );
    case 'object':
      return convertObject(z, schema, options);
    default:
      throw new Error(`Unsupported type ${type}`);
  }
}

function convertObject(
  z: Z,
  schema: JsonSchema,
  options: SpecZodOptions,
): zod.ZodTypeAny {
  const properties: Record<string, JsonSchema> = schema.properties ?? {};
  const extra = schema.additionalProperties;
  if (Object.keys(properties).length === 0) {
    return z.record(
      z.string(),
      extra && typeof extra === 'object'
        ? convert(z, extra, options)
        : z.unknown(),
    );
  }
  const required = new Set<string>(schema.required ?? []);
  const shape: Record<string, zod.ZodTypeAny> = {};
  for (const [key, property] of Object.entries(properties)) {
    shape[key] = field(z, property, !required.has(key), options);
  }
  const object = z.object(shape);
  return extra === true ? object.passthrough() : object;
}

function withDescription(
  type: zod.ZodTypeAny,
  schema: JsonSchema,
  description = specDescription(schema),
): zod.ZodTypeAny {
  return description ? type.describe(description) : type;
}

function field(
  z: Z,
  schema: JsonSchema,
  optional: boolean,
  options: SpecZodOptions,
  description?: string,
): zod.ZodTypeAny {
  let type = convert(z, schema, options);
  if (optional) {
    type = isContainer(schema) ? type.nullable().optional() : type.optional();
  }
  return withDescription(type, schema, description ?? specDescription(schema));
}

/** The zod form of a component schema (or of any schema of the spec). */
export function specSchema(
  z: Z,
  schema: KubeaiSchemaName | JsonSchema,
  options: SpecZodOptions = {},
): zod.ZodTypeAny {
  const json =
    typeof schema === 'string'
      ? { $ref: `#/components/schemas/${schema}` }
      : schema;
  return withDescription(convert(z, json, options), json);
}

/** Options of {@link specFields}. */
export interface SpecFieldsOptions extends SpecZodOptions {
  /** Descriptions replacing the spec's (for the spec's fields without one, or a form hint). */
  descriptions?: Record<string, string>;
}

/**
 * Properties `keys` of the object schema `object` (a component schema), as a zod shape: optional
 * unless the object requires them, described as the spec describes them.
 */
export function specFields<K extends string>(
  z: Z,
  object: KubeaiSchemaName,
  keys: readonly K[],
  options: SpecFieldsOptions = {},
): Record<K, zod.ZodTypeAny> {
  const schema = resolveSpecSchema(specComponent(object));
  const required = new Set<string>(schema.required ?? []);
  const shape = {} as Record<K, zod.ZodTypeAny>;
  for (const key of keys) {
    const property = schema.properties?.[key];
    if (!property) throw new Error(`${object} has no property ${key}`);
    shape[key] = field(
      z,
      property,
      !required.has(key),
      options,
      options.descriptions?.[key],
    );
  }
  return shape;
}
