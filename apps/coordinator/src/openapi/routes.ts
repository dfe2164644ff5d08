import { API_ROUTES, type OperationId, type RouteSpec } from '#api';

export type { RouteAccess, RouteResponse } from '#api';
export { routeName } from '#api';

/** One route of the REST API as the OpenAPI document describes it (libs/api contract.ts), with its operation id. */
export type RouteDoc = RouteSpec & { operationId: OperationId };

/**
 * Every route the coordinator serves over HTTP, besides the node WebSocket endpoint (docs/protocol.md):
 * the shared contract's table (libs/api contract.ts), which the SDK calls too. A new route goes there, in
 * test/roles.e2e-spec.ts's table, and nowhere else by hand: test/openapi.e2e-spec.ts fails while the
 * router and the table disagree.
 */
export const ROUTES: readonly RouteDoc[] = API_ROUTES;
