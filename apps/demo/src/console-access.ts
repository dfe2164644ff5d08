import type { LocalCluster } from '#harness';

/** Where the web console is and how to sign in to it: the cluster's admin token, or an auditor's API key made for the demo. */
export interface ConsoleAccess {
  url: string;
  adminToken: string;
  auditorKey: string;
}

/**
 * Creates the demo's read-only auditor principal (its API key is shown once, here) and names the
 * console's address on the cluster's coordinator (`/console/`, served on the API's origin).
 */
export async function consoleAccess(cluster: LocalCluster): Promise<ConsoleAccess> {
  const auditor = await cluster.api<{ apiKey: string }>('POST', '/v1/principals', { name: 'demo-auditor', role: 'auditor' });
  return { url: `${cluster.httpUrl}/console/`, adminToken: cluster.adminToken, auditorKey: auditor.apiKey };
}

/** The console lines the demo prints: the address, then one line per way to sign in. */
export function consoleLines(access: ConsoleAccess): string[] {
  return [
    `console ${access.url}`,
    `sign in as admin with the token ${access.adminToken}`,
    `or as a read-only auditor with the API key ${access.auditorKey}`,
  ];
}
