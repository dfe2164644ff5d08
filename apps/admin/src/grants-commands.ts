import { readFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { GrantStatus, type CreateGrantInput, type GrantResponse } from '#api';
import type { RoundtableClient } from '#sdk';
import { nonNegativeInt, positiveInt } from './cli-args.js';

/** Reads a grant scope (`{"kinds": [...], ...}`, docs/protocol.md) from a JSON file, `-` for stdin; the coordinator validates it. */
function readScope(file: string): CreateGrantInput['scope'] {
  try {
    return JSON.parse(readFileSync(file === '-' ? 0 : file, 'utf8')) as CreateGrantInput['scope'];
  } catch (e) {
    throw new Error(`--scope-file ${file}: ${(e as Error).message}`);
  }
}

interface CreateOptions {
  key: string;
  label: string;
  granteeEd25519?: string;
  granteeAddress?: string;
  validAfter?: string;
  validUntil: string;
  scopeFile: string;
}

/** `grants create|list|show|revoke`: session-key grants for automated agents (issue 10). */
export function addGrantCommands(
  program: Command,
  client: () => RoundtableClient,
  print: (value: unknown) => void,
  warn: (text: string) => void,
): void {
  const grants = program.command('grants').description("session-key grants: an agent's scoped, time-bound, revocable authorization to request signatures");
  const describe = (g: GrantResponse) => `grant ${g.id} (${g.label}) ${g.status}: ${g.approvals.filter((a) => a.state === 'approved').length}/${g.threshold} approvals`;
  grants
    .command('create')
    .description("propose a grant to the key's nodes; it is active once the key's threshold of them approve it (signer approvals)")
    .requiredOption('--key <keyId>', 'the key the agent may request signatures of')
    .requiredOption('--label <label>', 'what the agent is (1..200 characters)')
    .option('--grantee-ed25519 <hex>', "the agent's Ed25519 session public key, 64 hex characters")
    .option('--grantee-address <0x...>', 'or the Ethereum address whose EIP-191 signatures authenticate the agent')
    .option('--valid-after <iso-time>', 'from when (default: now)')
    .requiredOption('--valid-until <iso-time>', 'until when (ISO-8601); requests after it are refused GRANT_EXPIRED')
    .requiredOption('--scope-file <file>', 'the scope as JSON ({"kinds": ["eip712"], "chainIds": [...], ...}, docs/protocol.md); - for stdin')
    .action(async (o: CreateOptions) => {
      if ((o.granteeEd25519 === undefined) === (o.granteeAddress === undefined)) {
        program.error('give exactly one of --grantee-ed25519 or --grantee-address');
      }
      const grantee: CreateGrantInput['grantee'] =
        o.granteeEd25519 !== undefined ? { kind: 'ed25519', publicKey: o.granteeEd25519.toLowerCase() } : { kind: 'eip191', address: o.granteeAddress ?? '' };
      const created = await client().call('createGrant', {
        body: {
          keyId: o.key,
          grantee,
          label: o.label,
          ...(o.validAfter !== undefined ? { validAfter: o.validAfter } : {}),
          validUntil: o.validUntil,
          scope: readScope(o.scopeFile),
        },
      });
      print(created);
      warn(`${describe(created)}; proposed to its ${created.members} nodes (grant hash ${created.grantHash})`);
      for (const line of created.scopeText) warn(`  ${line}`);
    });
  grants
    .command('list')
    .description('grants, newest first, with their status, approvals and usage')
    .addOption(new Option('--status <status>', 'only grants in this state').choices(GrantStatus.options))
    .option('--key <keyId>', "only this key's grants")
    .option('--limit <n>', 'at most this many (1..500)', positiveInt, 50)
    .option('--offset <n>', 'skip this many', nonNegativeInt, 0)
    .action(async (o: { status?: GrantStatus; key?: string; limit: number; offset: number }) =>
      print(await client().call('listGrants', { query: { status: o.status, keyId: o.key, limit: o.limit, offset: o.offset } })),
    );
  grants
    .command('show')
    .description("one grant: its scope (and in plain words), each node's approval, usage against every limit, its requests")
    .argument('<grantId>', 'the grant id')
    .action(async (id: string) => {
      const g = await client().call('getGrant', { params: { id } });
      print(g);
      warn(describe(g));
      for (const line of g.scopeText) warn(`  ${line}`);
    });
  grants
    .command('revoke')
    .description('revoke a grant at once (the kill switch): new requests under it are refused, pending ones cancelled, the nodes told')
    .argument('<grantId>', 'the grant id')
    .option('--reason <text>', 'why, for the record')
    .action(async (id: string, o: { reason?: string }) =>
      print(await client().call('revokeGrant', { params: { id }, body: o.reason ? { reason: o.reason } : {} })),
    );
}
