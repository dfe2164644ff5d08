import { Option, type Command } from 'commander';
import { PRINCIPAL_ROLES, type PrincipalRole } from '#api';
import type { RoundtableClient } from '#sdk';

/** `principals create|list|show|revoke`: API principals and their roles (admin only on the coordinator). */
export function addPrincipalCommands(
  program: Command,
  client: () => RoundtableClient,
  print: (value: unknown) => void,
  warn: (text: string) => void,
): void {
  const principals = program.command('principals').description('API principals (admin, proposer, auditor) and their API keys');
  principals
    .command('create')
    .description('create a principal and print its API key, which is shown this once and never again')
    .requiredOption('--name <name>', 'a unique name (letters, digits and . _ @ + -, 1..100)')
    .addOption(new Option('--role <role>', 'what it may do').choices(PRINCIPAL_ROLES).makeOptionMandatory())
    .action(async (o: { name: string; role: PrincipalRole }) => {
      const created = await client().call('createPrincipal', { body: { name: o.name, role: o.role } });
      print(created);
      warn(
        `principal ${created.id} (${created.role}) created. Its API key (apiKey above) is shown this once and is not stored: ` +
          'keep it now; it authenticates as a bearer token (--admin-token, or ROUNDTABLE_ADMIN_TOKEN, for this CLI).',
      );
    });
  principals
    .command('list')
    .description('every principal, revoked ones included, in creation order (never their keys)')
    .action(async () => print(await client().call('listPrincipals')));
  principals
    .command('show')
    .description('one principal')
    .argument('<principalId>', 'the principal id')
    .action(async (id: string) => print(await client().call('getPrincipal', { params: { id } })));
  principals
    .command('revoke')
    .description('revoke a principal: its API key is refused from the next call on')
    .argument('<principalId>', 'the principal id')
    .action(async (id: string) => print(await client().call('revokePrincipal', { params: { id } })));
}
