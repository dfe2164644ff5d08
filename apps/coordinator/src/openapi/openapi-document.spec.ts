import { describe, expect, it } from 'vitest';
import { buildOpenApiDocument, openApiPath } from './openapi-document.js';
import { ROUTES } from './routes.js';

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;
type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Every `$ref` in `value`, with where it was found. */
function refs(value: unknown, at = '#'): [string, string][] {
  if (Array.isArray(value)) return value.flatMap((v, i) => refs(v, `${at}/${i}`));
  if (!isObject(value)) return [];
  return Object.entries(value).flatMap(([k, v]) => (k === '$ref' && typeof v === 'string' ? [[at, v] as [string, string]] : refs(v, `${at}/${k}`)));
}

describe('the OpenAPI document', () => {
  const doc = JSON.parse(JSON.stringify(buildOpenApiDocument('1.2.3'))) as Json;

  it('is OpenAPI 3.1 with info, paths and components', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info).toMatchObject({ title: expect.any(String) as unknown, version: '1.2.3' });
    expect(isObject(doc.paths)).toBe(true);
    expect(isObject((doc.components as Json).schemas)).toBe(true);
  });

  it('has one operation per registered route, each well formed', () => {
    const paths = doc.paths as Record<string, Json>;
    const operations: string[] = [];
    const ids = new Set<string>();
    for (const [path, item] of Object.entries(paths)) {
      expect(path.startsWith('/'), path).toBe(true);
      const templated = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
      for (const method of Object.keys(item)) {
        expect(METHODS as readonly string[], `${path}: ${method}`).toContain(method);
        const op = item[method] as Json;
        operations.push(`${method.toUpperCase()} ${path}`);
        expect(typeof op.operationId).toBe('string');
        expect(ids.has(op.operationId as string), `duplicate operationId ${String(op.operationId)}`).toBe(false);
        ids.add(op.operationId as string);
        const responses = op.responses as Record<string, Json>;
        expect(Object.keys(responses).length).toBeGreaterThan(0);
        for (const [status, res] of Object.entries(responses)) {
          expect(status).toMatch(/^[1-5]\d\d$|^default$/);
          expect(typeof res.description).toBe('string');
        }
        // Every templated segment has a required path parameter, and nothing else is a path parameter.
        const pathParams = ((op.parameters as Json[] | undefined) ?? []).filter((p) => p.in === 'path');
        expect(pathParams.map((p) => p.name).sort(), `${method} ${path}`).toEqual([...templated].sort());
        for (const p of pathParams) expect(p.required).toBe(true);
        for (const p of (op.parameters as Json[] | undefined) ?? []) expect(['path', 'query', 'header', 'cookie']).toContain(p.in);
        if (op.requestBody) expect(isObject(((op.requestBody as Json).content as Json)['application/json'])).toBe(true);
      }
    }
    expect(operations.sort()).toEqual(ROUTES.map((r) => `${r.method} ${openApiPath(r.path)}`).sort());
  });

  it('resolves every $ref to a component', () => {
    const schemas = (doc.components as Json).schemas as Json;
    const found = refs(doc);
    expect(found.length).toBeGreaterThan(0);
    for (const [at, ref] of found) {
      expect(ref, at).toMatch(/^#\/components\/(schemas|responses|parameters|requestBodies|securitySchemes)\//);
      const name = ref.split('/').pop()!;
      if (ref.startsWith('#/components/schemas/')) expect(schemas[name], `${at} -> ${ref}`).toBeDefined();
    }
  });

  it('documents every error as ErrorResponse and the roles of each route', () => {
    const op = (doc.paths as Record<string, Record<string, Json>>)['/v1/keys/{id}']!.get!;
    expect(op['x-roles']).toEqual(['admin', 'proposer', 'auditor']);
    expect(refs((op.responses as Json)['404'])).toEqual([[expect.any(String), '#/components/schemas/ErrorResponse']]);
    const health = (doc.paths as Record<string, Record<string, Json>>)['/health']!.get!;
    expect([health['x-roles'], health.security]).toEqual(['public', []]);
  });

  it('describes request bodies as a client writes them (defaults optional)', () => {
    const body = (doc.paths as Record<string, Record<string, Json>>)['/v1/signing-requests']!.post!.requestBody as Json;
    const schema = ((body.content as Json)['application/json'] as Json).schema as Json;
    const resolved = (schema.$ref ? ((doc.components as Json).schemas as Json)[(schema.$ref as string).split('/').pop()!] : schema) as Json;
    expect(Object.keys(resolved.properties as Json)).toEqual(expect.arrayContaining(['keyId', 'payload', 'message', 'deadline']));
    expect(resolved.required).toEqual(['keyId']);
  });
});

describe('the document\'s schemas', () => {
  /** Paths inside `value` of every empty schema `{}` (a value documented as anything at all). */
  const empties = (value: unknown, at: string): string[] => {
    if (Array.isArray(value)) return value.flatMap((v, i) => empties(v, `${at}/${i}`));
    if (typeof value !== 'object' || value === null) return [];
    const entries = Object.entries(value);
    const here = /\/(schema|items|properties\/[^/]+|additionalProperties|anyOf\/\d+|oneOf\/\d+)$/.test(at) && entries.length === 0 ? [at] : [];
    return [...here, ...entries.flatMap(([k, v]) => empties(v, `${at}/${k}`))];
  };

  it('leave no value undocumented: the only empty schemas are the values of free-form maps and the `details` of errors', () => {
    const doc = JSON.parse(JSON.stringify(buildOpenApiDocument('1'))) as unknown;
    const found = empties(doc, '#');
    expect(found.length).toBeGreaterThan(0);
    expect(found.filter((p) => !/\/additionalProperties$|\/properties\/details$/.test(p))).toEqual([]);
  });
});
