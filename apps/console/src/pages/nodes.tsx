import type { NodeResponse } from '#api';
import { client } from '../api.js';
import { Badge, Hex, Show, ShortId, Time, useLoad } from '../ui.js';

/** A node's policy version hash, when the API reports one (older coordinators do not). */
const policyHashOf = (node: NodeResponse): string | null => {
  const value = (node as NodeResponse & { policyHash?: unknown }).policyHash;
  return typeof value === 'string' ? value : null;
};

/** Signer nodes: connected or not, last seen, policy version. */
export function NodesPage() {
  const { data } = useLoad(() => client.call('listNodes'), 'nodes', 5000);
  return (
    <section>
      <h1>Nodes</h1>
      <Show data={data}>
        {(nodes) =>
          nodes.length === 0 ? (
            <p class="muted">No node is enrolled.</p>
          ) : (
            <table class="list" data-test="nodes">
              <thead>
                <tr>
                  <th>Node</th>
                  <th>Status</th>
                  <th>Online</th>
                  <th>Last seen</th>
                  <th>Policy hash</th>
                  <th>Nonce stock</th>
                  <th>Identity key</th>
                </tr>
              </thead>
              <tbody>
                {nodes.map((n) => (
                  <tr key={n.id} data-test="node-row">
                    <td>
                      {n.label} <ShortId id={n.id} />
                    </td>
                    <td>
                      <Badge value={n.status} />
                    </td>
                    <td>{n.connected ? <span class="ok">● online</span> : <span class="muted">○ offline</span>}</td>
                    <td>
                      <Time at={n.lastSeenAt} />
                    </td>
                    <td>
                      <Hex value={policyHashOf(n)} />
                    </td>
                    <td class="muted" title="The current protocol signs in two rounds: nodes keep no preprocessed nonces.">
                      n/a (two-round signing)
                    </td>
                    <td>
                      <Hex value={n.publicKey} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )
        }
      </Show>
    </section>
  );
}
