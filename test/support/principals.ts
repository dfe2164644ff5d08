import { DataSource } from 'typeorm';
import { CreatePrincipalResponse, type PrincipalRole } from '#api';
import type { TestCoordinator } from './coordinator.js';

/** A REST answer: status and parsed JSON body. */
export interface Answer {
  status: number;
  body: unknown;
}

/** A call with `token` as the bearer token, or with no Authorization header at all (`null`). */
export async function callWith(coord: TestCoordinator, token: string | null, method: string, path: string, body?: unknown): Promise<Answer> {
  const res = await fetch(`${coord.httpUrl}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...(token !== null ? { authorization: `Bearer ${token}` } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  // Non-JSON answers (/metrics, /docs) come back as their text.
  const json = res.headers.get('content-type')?.includes('json') ?? false;
  return { status: res.status, body: text ? (json ? (JSON.parse(text) as unknown) : text) : null };
}

/** Creates a principal with the admin token; returns it with its API key. */
export async function createPrincipal(coord: TestCoordinator, name: string, role: PrincipalRole): Promise<CreatePrincipalResponse> {
  const res = await coord.api('POST', '/v1/principals', { name, role });
  if (res.status !== 201) throw new Error(`creating principal ${name}: ${res.status} ${JSON.stringify(res.body)}`);
  return CreatePrincipalResponse.parse(res.body);
}

/** The coordinator's own DataSource, to read tables directly. */
export const dataSourceOf = (coord: TestCoordinator): DataSource => coord.app.get(DataSource, { strict: false });

/** Every route the coordinator's Express router serves, as `METHOD /path` (Nest's route patterns). */
export function servedRoutes(coord: TestCoordinator): string[] {
  const express = coord.app.getHttpAdapter().getInstance() as {
    router?: { stack: { route?: { path: string; methods: Record<string, boolean> } }[] };
    _router?: { stack: { route?: { path: string; methods: Record<string, boolean> } }[] };
  };
  const stack = (express.router ?? express._router)?.stack ?? [];
  return stack
    .flatMap((layer) => (layer.route ? Object.keys(layer.route.methods).map((m) => `${m.toUpperCase()} ${layer.route!.path}`) : []))
    .sort();
}
