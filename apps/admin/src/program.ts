import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, Option } from 'commander';
import { AUDIT_ACTIONS, CEREMONY_STATUSES, type AuditQuery, type CeremonyResponse, type CeremonyStatus } from '#api';
import { roundtableVersion } from '#package-info';
import { ACTOR_KINDS, SUITE_IDS, type SuiteId } from '#protocol';
import { adminClient } from './admin-client.js';
import { addAuditLogCommands } from './audit-log-commands.js';
import { addGrantCommands } from './grants-commands.js';
import { addPrincipalCommands } from './principals-commands.js';
import { addRequestCommands } from './requests-commands.js';
import { nonNegativeInt, positiveInt } from './cli-args.js';

/** What a command prints: results as JSON on stdout, progress (and help) on stderr; and how it ends. */
export interface AdminIo {
  out(text: string): void;
  progress(text: string): void;
  /** The process's exit code once the command is done (a command that ran but reports a failure). */
  setExitCode(code: number): void;
}

const collect = (value: string, previous: string[]) => [...previous, value];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The version in the repository's package.json (found above this file, from the sources or from dist/). */
export function adminVersion(from: string = dirname(fileURLToPath(import.meta.url))): string {
  return roundtableVersion(from, '0.0.0');
}

/** One line of progress per change: which round, and how many participants have answered it. */
export function describeCeremony(c: CeremonyResponse): string {
  const n = c.participants.length;
  switch (c.status) {
    case 'round1':
      return `round 1 (commitments and proofs): ${c.round1Received.length}/${n}`;
    case 'round2':
      return `round 2 (sealed shares, transcript check): ${c.round2Received.length}/${n}`;
    case 'round3':
      return `round 3 (results): ${c.resultsReceived.length}/${n}`;
    case 'completed':
      return `completed: key ${c.keyId}`;
    case 'failed':
      return `failed: ${c.failureCode ?? ''} ${c.failureReason ?? ''}`.trim();
  }
}

/**
 * `audit list`'s option for each key of the API's `AuditQuery`, by that key. The `satisfies` makes a filter
 * the API gains without an option here a type error (and test/admin-cli.e2e-spec.ts compares the keys at run
 * time), so the CLI cannot fall behind the API's filters again.
 */
export const AUDIT_LIST_OPTIONS = {
  requestId: '--request',
  keyId: '--key',
  nodeId: '--node',
  attemptId: '--attempt',
  action: '--action',
  actorKind: '--actor-kind',
  actorId: '--actor-id',
  from: '--from',
  to: '--to',
  after: '--after',
  limit: '--limit',
} as const satisfies { readonly [K in keyof Required<AuditQuery>]: `--${string}` };

/** `audit list`'s parsed options as the query the API takes, each under its `AuditQuery` key. */
function auditListQuery(parsed: Record<string, string | number | undefined>): AuditQuery {
  const entries = Object.entries(AUDIT_LIST_OPTIONS).map(([key, flag]) => [key, parsed[new Option(flag).attributeName()]]);
  // The values are checked by the API's schema (the SDK parses the query before sending it, the coordinator again).
  return Object.fromEntries(entries) as AuditQuery;
}

/**
 * The admin command line over the REST API, through the typed SDK (libs/sdk): every command calls an
 * operation of the shared contract, and every answer is parsed with that route's schema.
 * Commander's exits (help, version, usage errors) are thrown as CommanderError (`exitOverride`), so the
 * caller decides how the process ends.
 */
export function buildAdminProgram(io: AdminIo): Command {
  const program = new Command('roundtable-admin')
    .description('Roundtable admin CLI: nodes, keys, key ceremonies, signing requests, principals, grants and the audit log')
    .version(adminVersion(), '-V, --version', 'print the version and exit')
    .helpOption('-h, --help', 'show help for a command')
    .addOption(
      new Option('--coordinator <http-url>', 'coordinator base URL').env('ROUNDTABLE_COORDINATOR').default('http://127.0.0.1:8080'),
    )
    .addOption(
      new Option('--admin-token <token>', "bearer token: the coordinator's admin token or a principal's API key (rt_...)").env('ROUNDTABLE_ADMIN_TOKEN'),
    )
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.progress(s.trimEnd()) })
    .exitOverride()
    .showHelpAfterError();
  program.helpCommand('help [command]', 'show help for a command');
  const client = () => {
    const opts = program.opts<{ coordinator: string; adminToken?: string }>();
    return adminClient(opts.coordinator, opts.adminToken ?? '');
  };
  const print = (value: unknown) => io.out(JSON.stringify(value, null, 2));

  // ---------------------------------------------------------------- nodes
  const nodes = program.command('nodes').description('signer nodes: enroll, list, revoke, restore');
  nodes
    .command('list')
    .description('every enrolled node, with its status and whether it is connected')
    .action(async () => print(await client().call('listNodes')));
  nodes
    .command('show')
    .description('one node')
    .argument('<nodeId>', 'the node id')
    .action(async (id: string) => print(await client().call('getNode', { params: { id } })));
  nodes
    .command('enroll')
    .description("enroll a signer node by its identity public key (what `signer init` printed)")
    .requiredOption('--public-key <hex>', "the node's Ed25519 identity public key, 64 hex characters")
    .requiredOption('--label <label>', 'a name for the node (1..200 characters)')
    .action(async (o: { publicKey: string; label: string }) =>
      print(await client().call('enrollNode', { body: { publicKey: o.publicKey, label: o.label } })),
    );
  nodes
    .command('revoke')
    .description('revoke a node: its connection is closed and it can no longer authenticate (restore undoes it)')
    .argument('<nodeId>', 'the node id')
    .action(async (id: string) => print(await client().call('revokeNode', { params: { id } })));
  nodes
    .command('restore')
    .description('make a revoked node active again, with the same identity key and key memberships')
    .argument('<nodeId>', 'the node id (nodes list shows it)')
    .action(async (id: string) => print(await client().call('restoreNode', { params: { id } })));

  // ---------------------------------------------------------------- keys
  const keys = program.command('keys').description('threshold keys: list, show, retire');
  keys
    .command('list')
    .description('every key, with its members and group public key')
    .action(async () => print(await client().call('listKeys')));
  keys
    .command('show')
    .description('one key')
    .argument('<keyId>', 'the key id')
    .action(async (id: string) => print(await client().call('getKey', { params: { id } })));
  keys
    .command('retire')
    .description('no new signing requests for this key (requests already open go on)')
    .argument('<keyId>', 'the key id')
    .action(async (id: string) => print(await client().call('retireKey', { params: { id } })));

  // ---------------------------------------------------------------- ceremonies
  const ceremony = program.command('ceremony').description('distributed key generation through the coordinator');
  ceremony
    .command('start')
    .description("start a key generation among connected nodes and follow its progress (prints the key)")
    .addOption(new Option('--suite <suite>', 'the FROST ciphersuite').choices(SUITE_IDS).makeOptionMandatory())
    .requiredOption('--threshold <t>', 'signatures needed (2..number of nodes)', positiveInt)
    .requiredOption('--node <nodeId>', 'a participant (repeat, in identifier order)', collect, [])
    .option('--round-timeout-ms <ms>', 'how long each round may take (1000..600000)', positiveInt)
    .option('--no-wait', 'print the ceremony once started instead of following it')
    .action(async (o: { suite: SuiteId; threshold: number; node: string[]; roundTimeoutMs?: number; wait: boolean }) => {
      const api = client();
      const started = await api.call('startCeremony', {
        body: {
          suite: o.suite,
          threshold: o.threshold,
          nodeIds: o.node,
          ...(o.roundTimeoutMs ? { deadlineMs: o.roundTimeoutMs } : {}),
        },
      });
      io.progress(`ceremony ${started.id}: ${o.threshold}-of-${o.node.length} ${o.suite}, key ${started.keyId}`);
      if (!o.wait) return print(started);
      let last = '';
      for (let c = started; ; c = await api.call('getCeremony', { params: { id: started.id } })) {
        const line = describeCeremony(c);
        if (line !== last) io.progress(`  ${line}`);
        last = line;
        if (c.status === 'completed') return print(await api.call('getKey', { params: { id: c.keyId } }));
        if (c.status === 'failed') {
          print(c);
          io.setExitCode(1);
          return;
        }
        await sleep(200);
      }
    });
  ceremony
    .command('show')
    .description('one ceremony: its round, who has answered, its failure')
    .argument('<ceremonyId>', 'the ceremony id')
    .action(async (id: string) => print(await client().call('getCeremony', { params: { id } })));
  ceremony
    .command('list')
    .description('ceremonies, newest first')
    .addOption(new Option('--status <status>', 'only ceremonies in this state').choices(CEREMONY_STATUSES))
    .option('--limit <n>', 'at most this many (1..500)', positiveInt, 50)
    .option('--offset <n>', 'skip this many', nonNegativeInt, 0)
    .action(async (o: { status?: CeremonyStatus; limit: number; offset: number }) =>
      print(await client().call('listCeremonies', { query: { status: o.status, limit: o.limit, offset: o.offset } })),
    );

  // ---------------------------------------------------------------- signing requests
  addRequestCommands(program, client, print, io);

  // ---------------------------------------------------------------- principals
  addPrincipalCommands(program, client, print, (text) => io.progress(text));

  // ---------------------------------------------------------------- grants
  addGrantCommands(program, client, print, (text) => io.progress(text));

  // ---------------------------------------------------------------- audit
  const audit = program.command('audit').description('the audit log: list entries, verify the hash chain');
  audit
    .command('verify')
    .description('recompute the hash chain from the first entry (exit 1 when it is broken)')
    .action(async () => {
      const verdict = await client().call('verifyAuditChain');
      print(verdict);
      if (!verdict.ok) io.setExitCode(1);
    });
  audit
    .command('list')
    .description('entries in chain order, filtered; prints nextAfter to page on with --after')
    .option('--request <id>', "only this signing request's entries")
    .option('--key <id>', "only this key's entries (a ceremony's too)")
    .option('--node <id>', "only this node's entries")
    .option('--attempt <id>', "only this attempt's entries")
    .addOption(new Option('--action <action>', 'only this action').choices(AUDIT_ACTIONS))
    .addOption(new Option('--actor-kind <kind>', 'only entries of actors of this kind').choices(ACTOR_KINDS))
    .option('--actor-id <id>', 'only entries of this actor, exactly (admin-token, a principal id, a node id, grant:<id>, ...)')
    .option('--from <iso-time>', 'entries at or after this time (ISO-8601)')
    .option('--to <iso-time>', 'entries at or before this time (ISO-8601)')
    .option('--after <seq>', 'entries after this seq (a previous page\'s nextAfter)', nonNegativeInt)
    .option('--limit <n>', 'at most this many (1..1000)', positiveInt, 100)
    .action(async (o: Record<string, string | number | undefined>) => {
      const page = await client().call('listAuditEntries', { query: auditListQuery(o) });
      print(page);
      io.progress(page.nextAfter === null ? 'nextAfter: null (no more entries)' : `nextAfter: ${page.nextAfter} (next page: --after ${page.nextAfter})`);
    });
  addAuditLogCommands(audit, client, print, io);
  return program;
}
