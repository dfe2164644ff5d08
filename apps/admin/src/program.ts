import { Command, InvalidArgumentError } from 'commander';
import { SUITE_IDS } from '#protocol';
import { AdminClient } from './admin-client.js';

/** What a command prints: results as JSON on stdout, progress on stderr. */
export interface AdminIo {
  out(text: string): void;
  progress(text: string): void;
}

interface Ceremony {
  id: string;
  keyId: string;
  status: string;
  participants: unknown[];
  round1Received: number;
  round2Received: number;
  resultsReceived: number;
  failureCode: string | null;
  failureReason: string | null;
  culprits: unknown[];
}

const positiveInt = (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('a positive integer');
  return n;
};
const collect = (value: string, previous: string[]) => [...previous, value];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One line of progress per change: which round, and how many participants have answered it. */
export function describeCeremony(c: Ceremony): string {
  const n = c.participants.length;
  switch (c.status) {
    case 'round1':
      return `round 1 (commitments and proofs): ${c.round1Received}/${n}`;
    case 'round2':
      return `round 2 (sealed shares, transcript check): ${c.round2Received}/${n}`;
    case 'round3':
      return `round 3 (results): ${c.resultsReceived}/${n}`;
    case 'completed':
      return `completed: key ${c.keyId}`;
    case 'failed':
      return `failed: ${c.failureCode ?? ''} ${c.failureReason ?? ''}`.trim();
    default:
      return c.status;
  }
}

export function buildAdminProgram(io: AdminIo): Command {
  const program = new Command('roundtable-admin')
    .description('Roundtable admin CLI: nodes, keys, key ceremonies, signing requests and the audit log')
    .option('--coordinator <http-url>', 'coordinator base URL', process.env.ROUNDTABLE_COORDINATOR ?? 'http://127.0.0.1:8080')
    .option('--admin-token <token>', 'admin bearer token (default: $ROUNDTABLE_ADMIN_TOKEN)')
    .showHelpAfterError();
  const client = () => {
    const opts = program.opts<{ coordinator: string; adminToken?: string }>();
    return new AdminClient(opts.coordinator, opts.adminToken ?? process.env.ROUNDTABLE_ADMIN_TOKEN ?? '');
  };
  const print = (value: unknown) => io.out(JSON.stringify(value, null, 2));

  const nodes = program.command('nodes').description('signer nodes');
  nodes.command('list').action(async () => print(await client().call('GET', '/v1/nodes')));
  nodes
    .command('enroll')
    .requiredOption('--public-key <hex>', "the node's identity public key (signer init prints it)")
    .requiredOption('--label <label>', 'a name for the node')
    .action(async (o: { publicKey: string; label: string }) => print(await client().call('POST', '/v1/nodes', { publicKey: o.publicKey, label: o.label })));
  nodes.command('revoke <nodeId>').action(async (id: string) => print(await client().call('POST', `/v1/nodes/${id}/revoke`)));

  const keys = program.command('keys').description('threshold keys');
  keys.command('list').action(async () => print(await client().call('GET', '/v1/keys')));
  keys.command('show <keyId>').action(async (id: string) => print(await client().call('GET', `/v1/keys/${id}`)));
  keys.command('retire <keyId>').description('no new signing requests for this key').action(async (id: string) => print(await client().call('POST', `/v1/keys/${id}/retire`)));

  const ceremony = program.command('ceremony').description('distributed key generation through the coordinator');
  ceremony
    .command('start')
    .requiredOption('--suite <suite>', `one of ${SUITE_IDS.join(', ')}`)
    .requiredOption('--threshold <t>', 'signatures needed', positiveInt)
    .requiredOption('--node <nodeId>', 'a participant (repeat, in identifier order)', collect, [])
    .option('--round-timeout-ms <ms>', 'how long each round may take', positiveInt)
    .option('--no-wait', 'return once started instead of following the ceremony')
    .action(async (o: { suite: string; threshold: number; node: string[]; roundTimeoutMs?: number; wait: boolean }) => {
      const api = client();
      const started = await api.call<Ceremony>('POST', '/v1/ceremonies', {
        suite: o.suite,
        threshold: o.threshold,
        nodeIds: o.node,
        ...(o.roundTimeoutMs ? { deadlineMs: o.roundTimeoutMs } : {}),
      });
      io.progress(`ceremony ${started.id}: ${o.threshold}-of-${o.node.length} ${o.suite}, key ${started.keyId}`);
      if (!o.wait) return print(started);
      let last = '';
      for (;;) {
        const c = await api.call<Ceremony>('GET', `/v1/ceremonies/${started.id}`);
        const line = describeCeremony(c);
        if (line !== last) io.progress(`  ${line}`);
        last = line;
        if (c.status === 'completed') return print(await api.call('GET', `/v1/keys/${c.keyId}`));
        if (c.status === 'failed') {
          print(c);
          process.exitCode = 1;
          return;
        }
        await sleep(200);
      }
    });
  ceremony.command('show <ceremonyId>').action(async (id: string) => print(await client().call('GET', `/v1/ceremonies/${id}`)));
  ceremony.command('list').action(async () => print(await client().call('GET', '/v1/ceremonies')));

  program
    .command('sign')
    .description('create a signing request and wait for its outcome')
    .requiredOption('--key <keyId>', 'the key')
    .requiredOption('--message <message>', 'the message')
    .option('--encoding <utf8|hex>', 'how --message is written', 'utf8')
    .option('--description <text>', 'what the signers are asked to approve', '')
    .action(async (o: { key: string; message: string; encoding: string; description: string }) => {
      const api = client();
      const created = await api.call<{ id: string }>('POST', '/v1/signing-requests', {
        keyId: o.key,
        message: o.message,
        encoding: o.encoding,
        description: o.description,
      });
      io.progress(`request ${created.id} created; waiting for the signers`);
      for (;;) {
        const r = await api.call<{ status: string }>('GET', `/v1/signing-requests/${created.id}?waitMs=30000`);
        if (['completed', 'failed', 'expired'].includes(r.status)) {
          print(r);
          if (r.status !== 'completed') process.exitCode = 1;
          return;
        }
      }
    });

  const audit = program.command('audit').description('the audit log');
  audit
    .command('verify')
    .description('recompute the hash chain')
    .action(async () => {
      const verdict = await client().call<{ ok: boolean }>('GET', '/v1/audit/verify');
      print(verdict);
      if (!verdict.ok) process.exitCode = 1;
    });
  audit
    .command('list')
    .option('--request <id>')
    .option('--key <id>')
    .option('--node <id>')
    .option('--action <action>')
    .option('--limit <n>', 'entries', positiveInt, 100)
    .action(async (o: { request?: string; key?: string; node?: string; action?: string; limit: number }) => {
      const q = new URLSearchParams({ limit: String(o.limit) });
      if (o.request) q.set('requestId', o.request);
      if (o.key) q.set('keyId', o.key);
      if (o.node) q.set('nodeId', o.node);
      if (o.action) q.set('action', o.action);
      print(await client().call('GET', `/v1/audit?${q.toString()}`));
    });
  return program;
}
