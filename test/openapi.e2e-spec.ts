import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants.js';
import { RequestMethod } from '@nestjs/common';
import { ModulesContainer, Reflector } from '@nestjs/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PUBLIC_METADATA, ROLES_METADATA } from '../apps/coordinator/src/auth/roles.js';
import { generateIdentity } from '#crypto';
import { startTestCoordinator, type TestCoordinator } from './support/coordinator.js';
import { validateJsonSchema } from './support/json-schema.js';
import { dealtKeyRegistration } from './support/keys.js';
import { servedRoutes } from './support/principals.js';

type Json = Record<string, unknown>;

/** `/v1/nodes/{id}` as Nest's router spells it: `/v1/nodes/:id`. */
const nestPath = (openApiPath: string): string => openApiPath.replace(/\{([^}]+)\}/g, ':$1');

describe('GET /openapi.json and GET /docs', () => {
  let coord: TestCoordinator;
  let doc: Json;

  beforeAll(async () => {
    coord = await startTestCoordinator();
    // Public: fetched with no token.
    const res = await fetch(`${coord.httpUrl}/openapi.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    doc = (await res.json()) as Json;
  });
  afterAll(async () => coord?.destroy());

  const paths = () => doc.paths as Record<string, Record<string, Json>>;

  /** The documented JSON schema of `method path`'s `status` answer. */
  const responseSchema = (method: string, path: string, status: number): Json => {
    const op = paths()[path]?.[method.toLowerCase()];
    expect(op, `${method} ${path} is documented`).toBeDefined();
    const schema = (((op!.responses as Json)[String(status)] as Json | undefined)?.content as Json | undefined)?.['application/json'] as Json | undefined;
    expect(schema, `${method} ${path} documents ${status}`).toBeDefined();
    return schema!.schema as Json;
  };

  /** Calls the route as the admin and checks its answer against the document. */
  const conforms = async (method: string, path: string, documented: string, body?: unknown): Promise<Json> => {
    const res = await coord.api(method, path, body);
    const problems = validateJsonSchema(responseSchema(method, documented, res.status), res.body, doc);
    expect(problems, `${method} ${path} -> ${res.status}`).toEqual([]);
    return res.body as Json;
  };

  it('documents every route the router serves, and no route it does not', () => {
    const documented = Object.entries(paths())
      .flatMap(([path, item]) => Object.keys(item).map((method) => `${method.toUpperCase()} ${nestPath(path)}`))
      .sort();
    expect(documented).toEqual(servedRoutes(coord));
  });

  it('documents each route with the roles its controller grants (@Roles, @Public; admin-only by default)', () => {
    const reflector = new Reflector();
    const granted: Record<string, unknown> = {};
    for (const module of coord.app.get(ModulesContainer).values()) {
      for (const { metatype } of module.controllers.values()) {
        if (typeof metatype !== 'function') continue;
        const prefix = String(Reflect.getMetadata(PATH_METADATA, metatype) ?? '');
        const proto = metatype.prototype as Record<string, unknown>;
        for (const name of Object.getOwnPropertyNames(proto)) {
          const handler = proto[name];
          if (name === 'constructor' || typeof handler !== 'function') continue;
          const path = Reflect.getMetadata(PATH_METADATA, handler) as string | undefined;
          const method = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined;
          if (path === undefined || method === undefined) continue;
          const route = `${RequestMethod[method]} /${[prefix, path].map((p) => p.replace(/^\/|\/$/g, '')).filter(Boolean).join('/')}`;
          const targets = [handler, metatype];
          granted[route] = reflector.getAllAndOverride<boolean | undefined>(PUBLIC_METADATA, targets)
            ? 'public'
            : ['admin', ...(reflector.getAllAndOverride<string[] | undefined>(ROLES_METADATA, targets) ?? [])];
        }
      }
    }
    const documented = Object.fromEntries(
      Object.entries(paths()).flatMap(([path, item]) => Object.entries(item).map(([method, op]) => [`${method.toUpperCase()} ${nestPath(path)}`, op['x-roles']])),
    );
    expect(documented).toEqual(granted);
  });

  it('is OpenAPI 3.1: every operation has an id, responses and an ErrorResponse for its errors', () => {
    expect(doc.openapi).toMatch(/^3\.1\.\d+$/);
    expect(doc.info).toMatchObject({ title: expect.any(String) as unknown, version: expect.any(String) as unknown });
    const schemas = (doc.components as Json).schemas as Json;
    expect(schemas.ErrorResponse).toBeDefined();
    for (const [path, item] of Object.entries(paths())) {
      for (const [method, op] of Object.entries(item)) {
        expect(typeof op.operationId, `${method} ${path}`).toBe('string');
        const statuses = Object.keys(op.responses as Json);
        expect(statuses.some((s) => s.startsWith('2')), `${method} ${path} has a success`).toBe(true);
        for (const status of statuses.filter((s) => Number(s) >= 400)) {
          expect(responseSchema(method, path, Number(status)), `${method} ${path} ${status}`).toEqual({ $ref: '#/components/schemas/ErrorResponse' });
        }
      }
    }
  });

  it('answers as it documents: samples of several routes validate against their schemas', async () => {
    await conforms('GET', '/health', '/health');
    const node = await conforms('POST', '/v1/nodes', '/v1/nodes', { publicKey: generateIdentity().publicKey, label: 'openapi' });
    const nodeIds = [node.id as string];
    for (let i = 0; i < 2; i++) nodeIds.push((await conforms('POST', '/v1/nodes', '/v1/nodes', { publicKey: generateIdentity().publicKey, label: `openapi-${i}` })).id as string);
    await conforms('GET', `/v1/nodes/${nodeIds[0]}`, '/v1/nodes/{id}');
    const key = await conforms('POST', '/v1/keys', '/v1/keys', dealtKeyRegistration('ed25519', 2, nodeIds).body);
    await conforms('GET', '/v1/keys', '/v1/keys');
    const request = await conforms('POST', '/v1/signing-requests', '/v1/signing-requests', { keyId: key.id, message: 'hello openapi' });
    await conforms('GET', `/v1/signing-requests/${request.id as string}`, '/v1/signing-requests/{id}');
    await conforms('POST', `/v1/signing-requests/${request.id as string}/cancel`, '/v1/signing-requests/{id}/cancel', { reason: 'a sample' });
    await conforms('GET', '/v1/signing-requests', '/v1/signing-requests');
    await conforms('GET', '/v1/audit?limit=5', '/v1/audit');
    await conforms('GET', '/v1/principals', '/v1/principals');
    // An error answer conforms too.
    await conforms('GET', '/v1/keys/00000000-0000-4000-8000-000000000000', '/v1/keys/{id}');
  });

  it('a sample that breaks the documented schema is refused (the check can fail)', async () => {
    const res = await coord.api('GET', '/v1/keys');
    const schema = responseSchema('GET', '/v1/keys', 200);
    const broken = (res.body as Json[]).map((k) => ({ ...k, id: 42 }));
    expect(broken.length).toBeGreaterThan(0);
    expect(validateJsonSchema(schema, broken, doc)).not.toEqual([]);
    expect(validateJsonSchema(responseSchema('GET', '/v1/keys/{id}', 404), { error: { message: 'no code' } }, doc)).not.toEqual([]);
  });

  it('documents request bodies as a client writes them, and the roles of each route', () => {
    const op = paths()['/v1/nodes']!.post!;
    const schema = (((op.requestBody as Json).content as Json)['application/json'] as Json).schema as Json;
    expect(validateJsonSchema(schema, { publicKey: generateIdentity().publicKey, label: 'x' }, doc)).toEqual([]);
    expect(validateJsonSchema(schema, { label: 'x' }, doc)).not.toEqual([]);
    expect(op['x-roles']).toEqual(['admin']);
    expect(paths()['/v1/grants/{id}/requests']!.post!['x-roles']).toBe('public');
    expect(paths()['/v1/audit']!.get!['x-roles']).toEqual(['admin', 'auditor']);
  });

  it('serves /docs: a self-contained page listing every operation, loading nothing', async () => {
    const res = await fetch(`${coord.httpUrl}/docs`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
    const html = await res.text();
    // Nothing fetched: no script, no external stylesheet, image or font.
    expect(html).not.toMatch(/<script|<link|<img|@import|url\(/i);
    expect(html).not.toMatch(/(?:src|href)="(?:https?:)?\/\//i);
    for (const [path, item] of Object.entries(paths())) {
      for (const [method, op] of Object.entries(item)) {
        expect(html, `${method} ${path}`).toContain(`id="${op.operationId as string}"`);
        expect(html).toContain(`<code>${path}</code>`);
      }
    }
  });
});
