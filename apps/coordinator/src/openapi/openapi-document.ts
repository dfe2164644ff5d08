import { z } from 'zod';
import { createDocument, type ZodOpenApiOperationObject, type ZodOpenApiPathsObject, type ZodOpenApiResponseObject, type ZodOpenApiResponsesObject } from 'zod-openapi';
import { ErrorResponse } from '#api';
import { ROUTES, type RouteDoc } from './routes.js';

/** The OpenAPI document as JSON (what `createDocument` returns, narrowed to what the coordinator reads). */
export type OpenApiDocument = ReturnType<typeof createDocument>;

const ERROR_STATUS_TEXT: Record<number, string> = {
  400: 'VALIDATION_FAILED: the body, query or path did not parse',
  401: 'UNAUTHORIZED: no token, or not a valid one',
  403: 'FORBIDDEN: the caller\'s role may not call this route (or a grant refused the request)',
  404: 'not found (the code names what)',
  409: 'conflict with the current state (the code says which)',
  422: 'understood but refused (the code says why)',
  500: 'INTERNAL',
  503: 'DATABASE_UNAVAILABLE',
};

/** `/v1/nodes/:id` as OpenAPI spells it: `/v1/nodes/{id}`. */
export const openApiPath = (nestPath: string): string => nestPath.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

const accessText = (route: RouteDoc): string =>
  route.access === 'public' ? 'Public: no token.' : `Roles: ${['admin', ...route.access].join(', ')}.`;

function responses(route: RouteDoc): ZodOpenApiResponsesObject {
  const out: Record<string, ZodOpenApiResponseObject> = {};
  for (const [status, res] of Object.entries(route.responses)) {
    out[status] = 'schema' in res ? { description: res.description, content: { 'application/json': { schema: res.schema } } } : { description: res.description, content: { [res.mediaType]: { schema: { type: 'string' } } } };
  }
  const errors = new Set<number>([...(route.access === 'public' ? [] : [401, 403]), ...(route.body || route.query || route.params ? [400] : []), ...(route.errors ?? []), 500, 503]);
  for (const status of [...errors].sort()) out[String(status)] = { description: ERROR_STATUS_TEXT[status] ?? 'error', content: { 'application/json': { schema: ErrorResponse } } };
  return out;
}

function operation(route: RouteDoc): ZodOpenApiOperationObject {
  const op: ZodOpenApiOperationObject = {
    operationId: route.operationId,
    summary: route.summary,
    description: accessText(route),
    tags: [route.tag],
    'x-roles': route.access === 'public' ? 'public' : ['admin', ...route.access],
    security: route.access === 'public' ? [] : [{ bearer: [] }],
    responses: responses(route),
  };
  if (route.params || route.query) {
    op.requestParams = {
      ...(route.params ? { path: z.object(route.params) } : {}),
      ...(route.query ? { query: route.query } : {}),
    };
  }
  if (route.body) op.requestBody = { required: route.method === 'POST' && !isOptionalBody(route), content: { 'application/json': { schema: route.body } } };
  return op;
}

/** Bodies the controllers read as `body ?? {}`: an empty POST is fine. */
const isOptionalBody = (route: RouteDoc): boolean => route.body !== undefined && route.body.safeParse({}).success;

/**
 * The OpenAPI 3.1 document of the REST API, generated from libs/api's zod schemas through the route
 * registry (routes.ts): request schemas as clients may write them (zod's input side: defaults optional,
 * ids in any case), response schemas as the coordinator writes them (the output side). Built once per
 * process: the schemas are constants.
 */
export function buildOpenApiDocument(version: string): OpenApiDocument {
  const paths: ZodOpenApiPathsObject = {};
  for (const route of ROUTES) {
    const path = openApiPath(route.path);
    paths[path] = { ...paths[path], [route.method.toLowerCase()]: operation(route) };
  }
  return createDocument(
    {
      openapi: '3.1.0',
      info: {
        title: 'Roundtable coordinator',
        version,
        description:
          'The REST API of the Roundtable threshold-signing coordinator. Every error is an ErrorResponse `{ error: { code, message, details? } }`. ' +
          'The signer nodes speak the WebSocket protocol of docs/protocol.md on /v1/nodes/ws, which this document does not describe.',
      },
      tags: [...new Set(ROUTES.map((r) => r.tag))].map((name) => ({ name })),
      paths,
      components: {
        schemas: { ErrorResponse },
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'The admin token or a principal\'s API key (rt_...)' } },
      },
    },
    { override: documentCanonicalizingTransforms },
  );
}

/**
 * A response's value after a transform has no JSON Schema of its own (zod cannot see through the
 * function). The contract's transforms on response fields only canonicalize (`Uuid` reads an id in lower
 * case): the value keeps its input's type, so its output is documented as its input is. A transform that
 * changed a type would have to say so with `.meta({ override })`; openapi-document.spec.ts fails on any
 * output schema left empty.
 */
function documentCanonicalizingTransforms(ctx: { zodSchema: z.core.$ZodType; jsonSchema: Record<string, unknown>; io: 'input' | 'output' }): void {
  const def = ctx.zodSchema._zod.def;
  if (ctx.io !== 'output' || def.type !== 'pipe') return;
  const pipe = def as z.core.$ZodPipeDef;
  if (pipe.out._zod.def.type !== 'transform') return;
  const { $schema: _, ...input } = z.toJSONSchema(pipe.in, { io: 'output', target: 'draft-2020-12', unrepresentable: 'any' });
  Object.assign(ctx.jsonSchema, input);
}

let cached: { version: string; document: OpenApiDocument } | undefined;

/** The document, built on first use. */
export function openApiDocument(version: string): OpenApiDocument {
  if (cached?.version !== version) cached = { version, document: buildOpenApiDocument(version) };
  return cached.document;
}
