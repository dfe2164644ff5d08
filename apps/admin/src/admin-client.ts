import { ApiError, RoundtableClient } from '#sdk';

/**
 * The admin CLI's client: the typed SDK (libs/sdk) over the shared REST contract, so every command calls
 * an operation id and every answer is parsed by that route's schema. Only what the CLI adds lives here:
 * it refuses to run without a bearer token (the console's cookie session has no meaning on a command line).
 */
export function adminClient(coordinatorUrl: string, token: string): RoundtableClient {
  const client = new RoundtableClient({ baseUrl: coordinatorUrl, token });
  if (!token) throw new ApiError(0, 'INVALID_CONFIG', 'a bearer token is required: the admin token or an API key (--admin-token or ROUNDTABLE_ADMIN_TOKEN)');
  return client;
}
