type Schema = Record<string, unknown> | boolean;
type Json = Record<string, unknown>;

const typeOf = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'array' : Number.isInteger(v) ? 'integer' : typeof v);
const isType = (v: unknown, t: string): boolean => typeOf(v) === t || (t === 'number' && typeof v === 'number');

/**
 * A small JSON Schema (2020-12 subset) validator for the schemas zod-openapi writes: type, enum, const,
 * properties, required, additionalProperties, items, prefixItems, anyOf, oneOf, allOf, $ref into the
 * document, minLength/maxLength, minimum/maximum, minItems/maxItems, pattern. Formats are not checked.
 * Returns the problems found, each with its JSON pointer; empty when `value` conforms.
 */
export function validateJsonSchema(schema: Schema, value: unknown, root: Json, at = ''): string[] {
  if (schema === true) return [];
  if (schema === false) return [`${at}: no value allowed`];
  const s = schema;
  if (typeof s.$ref === 'string') {
    const target = s.$ref
      .replace(/^#\//, '')
      .split('/')
      .reduce<unknown>((node, key) => (node as Json | undefined)?.[key.replace(/~1/g, '/').replace(/~0/g, '~')], root);
    if (target === undefined) return [`${at}: unresolved ${s.$ref}`];
    const problems = validateJsonSchema(target as Schema, value, root, at);
    if (problems.length > 0) return problems;
  }
  const errors: string[] = [];
  if (s.type !== undefined) {
    const types = Array.isArray(s.type) ? (s.type as string[]) : [s.type as string];
    if (!types.some((t) => isType(value, t))) return [`${at}: ${typeOf(value)} is not ${types.join('|')}`];
  }
  if (Array.isArray(s.enum) && !s.enum.some((e) => JSON.stringify(e) === JSON.stringify(value))) errors.push(`${at}: ${JSON.stringify(value)} not in enum`);
  if ('const' in s && JSON.stringify(s.const) !== JSON.stringify(value)) errors.push(`${at}: not ${JSON.stringify(s.const)}`);
  if (typeof value === 'string') {
    if (typeof s.minLength === 'number' && value.length < s.minLength) errors.push(`${at}: shorter than ${s.minLength}`);
    if (typeof s.maxLength === 'number' && value.length > s.maxLength) errors.push(`${at}: longer than ${s.maxLength}`);
    if (typeof s.pattern === 'string' && !new RegExp(s.pattern, 'u').test(value)) errors.push(`${at}: does not match ${s.pattern}`);
  }
  if (typeof value === 'number') {
    if (typeof s.minimum === 'number' && value < s.minimum) errors.push(`${at}: below ${s.minimum}`);
    if (typeof s.maximum === 'number' && value > s.maximum) errors.push(`${at}: above ${s.maximum}`);
  }
  if (Array.isArray(value)) {
    if (typeof s.minItems === 'number' && value.length < s.minItems) errors.push(`${at}: fewer than ${s.minItems} items`);
    if (typeof s.maxItems === 'number' && value.length > s.maxItems) errors.push(`${at}: more than ${s.maxItems} items`);
    const prefix = Array.isArray(s.prefixItems) ? (s.prefixItems as Schema[]) : [];
    value.forEach((item, i) => {
      const itemSchema = prefix[i] ?? (s.items as Schema | undefined);
      if (itemSchema !== undefined) errors.push(...validateJsonSchema(itemSchema, item, root, `${at}/${i}`));
    });
  }
  if (typeOf(value) === 'object') {
    const obj = value as Json;
    const props = (s.properties ?? {}) as Record<string, Schema>;
    for (const key of (s.required as string[] | undefined) ?? []) if (!(key in obj)) errors.push(`${at}: missing ${key}`);
    for (const [key, v] of Object.entries(obj)) {
      if (key in props) errors.push(...validateJsonSchema(props[key]!, v, root, `${at}/${key}`));
      else if (s.additionalProperties !== undefined) errors.push(...validateJsonSchema(s.additionalProperties as Schema, v, root, `${at}/${key}`));
    }
  }
  for (const sub of (s.allOf as Schema[] | undefined) ?? []) errors.push(...validateJsonSchema(sub, value, root, at));
  if (Array.isArray(s.anyOf) && !(s.anyOf as Schema[]).some((sub) => validateJsonSchema(sub, value, root, at).length === 0)) errors.push(`${at}: matches no anyOf branch`);
  if (Array.isArray(s.oneOf) && (s.oneOf as Schema[]).filter((sub) => validateJsonSchema(sub, value, root, at).length === 0).length !== 1) errors.push(`${at}: matches not exactly one oneOf branch`);
  return errors;
}
