/**
 * Roundtable's typed REST client (the SDK): `new RoundtableClient({ baseUrl, token }).call('getSigningRequest',
 * { params: { id } })`. Every operation, its input and its answer come from the shared contract (#api).
 */
export * from './client.js';
export { API, type Api, type OperationId } from '#api';
