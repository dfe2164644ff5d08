import type { Grant } from '#protocol';
import { clip, type Decision } from './policy-evaluate.js';
import type { GrantRule } from './policy-schema.js';
import type { PolicyOutcome } from './policy-types.js';

/**
 * How a node decides on a proposed session-key grant by its policy's `grantRules` (issue 10), with the
 * request rules' semantics: deny by default (no grant rule applies, or none is written: deny), every
 * rule evaluated (all-match), deny > ask > allow, the first rule of the winning outcome named. Every
 * condition can always be evaluated on a grant (no unknowns): a rule applies when all it gives hold.
 */

export interface CompiledGrantRule {
  rule: GrantRule;
  label?: RegExp;
}

export const compileGrantRule = (rule: GrantRule): CompiledGrantRule => ({
  rule,
  ...(rule.match.label !== undefined ? { label: new RegExp(rule.match.label) } : {}),
});

/** Why the rule does not apply to the grant, or null when it does. */
export function grantRuleMiss(compiled: CompiledGrantRule, grant: Grant): string | null {
  const m = compiled.rule.match;
  if (m.keyIds && !m.keyIds.includes(grant.keyId.toLowerCase())) return `the grant is for key ${grant.keyId}, not ${m.keyIds.join(' or ')}`;
  if (m.granteeKinds && !m.granteeKinds.includes(grant.grantee.kind)) return `the grantee is ${grant.grantee.kind}, not ${m.granteeKinds.join(' or ')}`;
  const validity = grant.validUntil - grant.validAfter;
  if (m.maxValidityMs !== undefined && validity > m.maxValidityMs) return `the grant is valid for ${validity} ms, more than ${m.maxValidityMs}`;
  if (compiled.label && grant.label.search(compiled.label) === -1) return `the label ${JSON.stringify(grant.label)} does not match ${m.label}`;
  return null;
}

const ORDER: PolicyOutcome[] = ['deny', 'ask', 'allow'];

/** Decides on a grant under the compiled grant rules (in document order). Pure. */
export function decideGrant(rules: readonly CompiledGrantRule[], grant: Grant): Decision {
  const results = rules.map((r) => ({ r, miss: grantRuleMiss(r, grant) }));
  for (const outcome of ORDER) {
    const winner = results.find(({ r, miss }) => miss === null && r.rule.outcome === outcome);
    if (winner) {
      const { rule } = winner.r;
      const verb = outcome === 'allow' ? 'approved' : outcome === 'deny' ? 'declined' : 'needs operator approval';
      return { outcome, rule: rule.id, reason: clip(`grant ${verb} by grant rule ${rule.id}${rule.description ? `: ${rule.description}` : ''}`) };
    }
  }
  const head = rules.length === 0 ? 'the policy has no grant rule: no grant is approved (deny by default)' : 'no grant rule applies (deny by default)';
  return { outcome: 'deny', rule: null, reason: clip([head, ...results.map(({ r, miss }) => `grant rule ${r.rule.id}: ${miss ?? 'does not apply'}`)].join('; ')) };
}
