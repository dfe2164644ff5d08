import { Option, type Command } from 'commander';
import { CreatePrincipalResponse, PRINCIPAL_ROLES, PrincipalListResponse, PrincipalResponse } from '#api';
import type { AdminClient } from './admin-client.js';

const segment = (id: string) => encodeURIComponent(id);

/** `principals create|list|show|revoke`: API principals and their roles (admin only on the coordinator). */
export function addPrincipalCommands(
  program: Command,
  client: () => AdminClient,
  print: (value: unknown) => void,
  warn: (text: string) => void,
): void {
  const principals = program.command('principals').description('API principals (admin, proposer, auditor) and their API keys');
  principals
    .command('create')
    .description('create a principal and print its API key, which is shown this once and never again')
    .requiredOption('--name <name>', 'a unique name (letters, digits and . _ @ + -, 1..100)')
    .addOption(new Option('--role <role>', 'what it may do').choices(PRINCIPAL_ROLES).makeOptionMandatory())
    .action(async (o: { name: string; role: string }) => {
      const created = await client().call('POST', '/v1/principals', CreatePrincipalResponse, { name: o.name, role: o.role });
      print(created);
      warn(
        `principal ${created.id} (${created.role}) created. Its API key (apiKey above) is shown this once and is not stored: ` +
          'keep it now; it authenticates as a bearer token (--admin-token, or ROUNDTABLE_ADMIN_TOKEN, for this CLI).',
      );
    });
  principals
    .command('list')
    .description('every principal, revoked ones included, in creation order (never their keys)')
    .action(async () => print(await client().call('GET', '/v1/principals', PrincipalListResponse)));
  principals
    .command('show')
    .description('one principal')
    .argument('<principalId>', 'the principal id')
    .action(async (id: string) => print(await client().call('GET', `/v1/principals/${segment(id)}`, PrincipalResponse)));
  principals
    .command('revoke')
    .description('revoke a principal: its API key is refused from the next call on')
    .argument('<principalId>', 'the principal id')
    .action(async (id: string) => print(await client().call('POST', `/v1/principals/${segment(id)}/revoke`, PrincipalResponse)));
}
