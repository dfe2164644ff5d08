import { describe, expect, it } from 'vitest';
import type { AttemptRecord, CommitmentRecord } from '../records.js';
import {
  MAX_BLAMELESS_REFUSALS,
  MAX_STAGGERS,
  attemptsEndedBy,
  isBlamelessRefusal,
  judgeAnswer,
  judgeCommitment,
  neverAnswered,
  nextStep,
  proposeTargets,
  type RoastView,
  type SignerView,
} from './roast.js';

const S = (nodeId: string, over: Partial<SignerView> = {}): SignerView => ({ nodeId, excluded: false, connected: true, ...over });
const view = (over: Partial<RoastView>): RoastView => ({ threshold: 2, signers: [], running: [], unjudged: [], staggerMs: 500, now: 10_000, ...over });

describe('nextStep: which signers start the next attempt, and when', () => {
  it.each<[string, Partial<RoastView>, ReturnType<typeof nextStep>]>([
    ['fewer than t members left once culprits are out: fail', { signers: [S('a', { excluded: true }), S('b', { excluded: true }), S('c', { readySince: 1 })] }, { kind: 'fail' }],
    ['t members left but fewer than t ready: wait for commitments', { signers: [S('a', { readySince: 1 }), S('b'), S('c', { excluded: true })] }, { kind: 'idle' }],
    ['a ready but disconnected signer does not count', { signers: [S('a', { readySince: 1 }), S('b', { readySince: 2, connected: false }), S('c')] }, { kind: 'idle' }],
    ['an excluded signer never counts as ready', { signers: [S('a', { readySince: 1 }), S('b', { readySince: 2, excluded: true }), S('c')] }, { kind: 'idle' }],
    ['t ready: start with the t earliest-ready', { signers: [S('a', { readySince: 30 }), S('b', { readySince: 10 }), S('c', { readySince: 20 })] }, { kind: 'start', signers: ['b', 'c'] }],
    ['a disconnected member does not make the request fail', { signers: [S('a', { connected: false }), S('b', { connected: false }), S('c')] }, { kind: 'idle' }],
  ])('%s', (_what, v, expected) => {
    expect(nextStep(view(v))).toEqual(expected);
  });

  const ready3 = [S('a', { readySince: 1 }), S('b', { readySince: 2 }), S('c', { readySince: 3 })];
  it.each<[string, Partial<RoastView>, ReturnType<typeof nextStep>]>([
    ['the newest running attempt made progress 100 ms ago: wait out the stagger from it', { running: [{ id: 'x', startedAt: 9_000, lastProgress: 9_900 }] }, { kind: 'wait', until: 10_400 }],
    ['it has stalled for a whole stagger: overtake it', { running: [{ id: 'x', startedAt: 9_000, lastProgress: 9_500 }] }, { kind: 'start', signers: ['a', 'b'] }],
    [
      `progress never buys more than ${MAX_STAGGERS} staggers from its start`,
      { running: [{ id: 'x', startedAt: 10_000 - MAX_STAGGERS * 500 + 100, lastProgress: 9_999 }] },
      { kind: 'wait', until: 10_100 },
    ],
    [
      'only the newest running attempt counts',
      { running: [{ id: 'old', startedAt: 1_000, lastProgress: 1_000 }, { id: 'new', startedAt: 9_800, lastProgress: 9_800 }] },
      { kind: 'wait', until: 10_300 },
    ],
    ['stagger 0 (the ROAST paper): start beside a running attempt at once', { staggerMs: 0, running: [{ id: 'x', startedAt: 9_999, lastProgress: 9_999 }] }, { kind: 'start', signers: ['a', 'b'] }],
  ])('stagger: %s', (_what, v, expected) => {
    expect(nextStep(view({ signers: ready3, ...v }))).toEqual(expected);
  });

  it('checks the unjudged shares of the chosen signers, and only theirs, before they join another attempt', () => {
    const unjudged = [
      { attemptId: 'x', nodeId: 'a' },
      { attemptId: 'x', nodeId: 'c' },
    ];
    expect(nextStep(view({ signers: ready3, unjudged, staggerMs: 0 }))).toEqual({ kind: 'verify', shares: [{ attemptId: 'x', nodeId: 'a' }] });
    expect(nextStep(view({ signers: ready3, unjudged: [{ attemptId: 'x', nodeId: 'c' }], staggerMs: 0 }))).toEqual({ kind: 'start', signers: ['a', 'b'] });
  });
});

describe('proposeTargets: who is asked for a commitment', () => {
  it('asks connected, non-excluded members that are neither ready nor owing, once per connection', () => {
    const signers = [
      S('idle'),
      S('asked'),
      S('excluded', { excluded: true }),
      S('offline', { connected: false }),
      S('ready', { readySince: 1 }),
      S('owing', { owes: 'x' }),
    ];
    expect(proposeTargets({ signers }, (id) => id === 'asked')).toEqual(['idle']);
  });
});

describe('judgeCommitment: what a commitment frame means for its sender', () => {
  const mine = { identifier: '01'.padStart(64, '0'), hiding: 'h1', binding: 'b1' };
  const signer = (over: Partial<SignerView> & { ready?: { hiding: string; binding: string } } = {}) => ({ ...S('n'), identifier: mine.identifier, ...over });
  it.each<[string, ReturnType<typeof signer>, typeof mine, string, string?]>([
    ['a fresh commitment from an idle node', signer(), mine, 'accept'],
    ['the same commitment again (a resend)', signer({ readySince: 1, ready: { hiding: 'h1', binding: 'b1' } }), mine, 'duplicate'],
    ['another identifier than its own', signer(), { ...mine, identifier: '02'.padStart(64, '0') }, 'IDENTIFIER_MISMATCH', 'invalid_commitment'],
    ['identifier zero', signer(), { ...mine, identifier: '0'.repeat(64) }, 'IDENTIFIER_MISMATCH', 'invalid_commitment'],
    ['its ready commitment resent under identifier zero', signer({ readySince: 1, ready: { hiding: 'h1', binding: 'b1' } }), { ...mine, identifier: '0'.repeat(64) }, 'IDENTIFIER_MISMATCH', 'invalid_commitment'],
    ['a second commitment while its first is unused', signer({ readySince: 1, ready: { hiding: 'h0', binding: 'b0' } }), mine, 'COMMITMENT_CONFLICT', 'unsolicited_frame'],
    ['a commitment while it owes an attempt its share', signer({ owes: 'attempt-1' }), mine, 'COMMITMENT_CONFLICT', 'unsolicited_frame'],
  ])('%s', (_what, s, c, expected, reason) => {
    const judged = judgeCommitment(s, c);
    if (reason === undefined) expect(judged.kind).toBe(expected);
    else expect(judged).toMatchObject({ kind: 'misbehaviour', code: expected, culprit: { nodeId: 'n', reason } });
  });

  it('names the attempt a node owes when it offers a commitment anyway', () => {
    expect(judgeCommitment(signer({ owes: 'attempt-1' }), mine)).toMatchObject({ culprit: { attemptId: 'attempt-1' } });
  });
});

describe('judgeAnswer: a share or refusal must answer an attempt that waits for it', () => {
  const attempt = (id: string, status: AttemptRecord['status'], participants: string[]): AttemptRecord =>
    ({ id, seq: 1, status, participants, requestId: 'r', commitments: [], deadline: new Date(), startedAt: new Date(), endedAt: null, failureReason: null });
  const assigned = (nodeId: string, attemptId: string) => ({ nodeId, attemptId, status: 'assigned' }) as CommitmentRecord;
  const state = {
    attempts: [attempt('running', 'signing', ['a', 'b']), attempt('ended', 'failed', ['a', 'c'])],
    commitments: [assigned('a', 'running'), assigned('c', 'ended')],
  };
  it.each<[string, string, string, string]>([
    ['an attempt of another request, or none', 'a', 'elsewhere', 'not_found'],
    ['an attempt the node is not in', 'c', 'running', 'NOT_IN_SIGNER_SET'],
    ['an attempt it already answered', 'b', 'running', 'SHARE_CONFLICT'],
    ['the attempt it owes', 'a', 'running', 'owed'],
  ])('%s', (_what, nodeId, attemptId, expected) => {
    const judged = judgeAnswer(state, nodeId, attemptId);
    expect(judged.kind === 'misbehaviour' ? judged.code : judged.kind).toBe(expected);
  });

  it('takes a late answer to an attempt that already ended (its next commitment still counts)', () => {
    expect(judgeAnswer(state, 'c', 'ended')).toMatchObject({ kind: 'owed', late: true });
    expect(judgeAnswer(state, 'a', 'running')).toMatchObject({ kind: 'owed', late: false });
  });
});

describe('isBlamelessRefusal', () => {
  it.each<[Parameters<typeof isBlamelessRefusal>[0], number, boolean]>([
    ['NONCE_UNKNOWN', 0, true],
    ['NONCE_CONSUMED', 1, true],
    ['DEADLINE_PASSED', MAX_BLAMELESS_REFUSALS - 1, true],
    ['NONCE_UNKNOWN', MAX_BLAMELESS_REFUSALS, false],
    ['MESSAGE_MISMATCH', 0, false],
    ['SIGNER_SET_INVALID', 0, false],
    ['POLICY_DENIED', 0, false],
  ])('%s after %i earlier blameless refusals: blameless %s', (code, earlier, expected) => {
    expect(isBlamelessRefusal(code, earlier)).toBe(expected);
  });
});

describe('attemptsEndedBy: what an exclusion ends', () => {
  const signers = [S('a', { owes: 'x' }), S('b'), S('c', { owes: 'y' })];
  const running = [
    { id: 'x', startedAt: 0, lastProgress: 0 },
    { id: 'y', startedAt: 0, lastProgress: 0 },
  ];
  it.each<[string, Parameters<typeof attemptsEndedBy>[1], string[]]>([
    ['a culprit that still owes an attempt its share ends it', [{ nodeId: 'a', reason: 'declined' }], ['x']],
    ['a culprit whose share in an attempt is bad ends that attempt', [{ nodeId: 'b', reason: 'invalid_share', attemptId: 'y' }], ['y']],
    ['a malformed share likewise', [{ nodeId: 'b', reason: 'malformed_share', attemptId: 'x' }], ['x']],
    ['a culprit that answered an attempt well does not end it', [{ nodeId: 'b', reason: 'unsolicited_frame', attemptId: 'x' }], []],
    ['two culprits, two attempts', [{ nodeId: 'a', reason: 'declined' }, { nodeId: 'c', reason: 'refused_package', attemptId: 'y' }], ['x', 'y']],
  ])('%s', (_what, culprits, expected) => {
    expect(attemptsEndedBy({ signers, running }, culprits).map((e) => e.attemptId)).toEqual(expected);
  });
});

describe('neverAnswered', () => {
  it('names members that still owe an answer or never committed at all, not the excluded', () => {
    const signers = [S('owing', { owes: 'x' }), S('ready', { readySince: 1 }), S('answered'), S('silent'), S('culprit', { excluded: true })];
    expect(neverAnswered({ signers }, [{ participants: ['owing', 'answered'] }])).toEqual(['owing', 'silent']);
  });
});

/**
 * ROAST's guarantee, checked on the pure scheduler: with t honest signers and up to n-t that answer with
 * invalid shares or never answer, every request completes after at most n-t+1 attempts, whatever the
 * order in which signers become ready and answer.
 */
describe('the n-t+1 bound', () => {
  type Behaviour = 'honest' | 'invalid' | 'silent';
  function simulate(behaviours: Behaviour[], threshold: number, seed: number, staggerMs: number) {
    let rng = seed;
    const random = () => ((rng = (rng * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    let clock = 0;
    const nodes = behaviours.map((b, i) => ({ id: `n${i}`, b, excluded: false, readySince: undefined as number | undefined, owes: undefined as string | undefined }));
    for (const n of [...nodes].sort(() => random() - 0.5)) n.readySince = clock++;
    const attempts: { id: string; startedAt: number; lastProgress: number; signers: string[]; shares: Map<string, boolean | null>; done: boolean }[] = [];
    const answers: { node: string; attempt: string }[] = [];
    for (let steps = 0; steps < 1000; steps++) {
      clock += 1;
      const running = attempts.filter((a) => !a.done);
      const v: RoastView = {
        threshold,
        signers: nodes.map((n) => ({ nodeId: n.id, excluded: n.excluded, connected: true, ...(n.readySince !== undefined ? { readySince: n.readySince } : {}), ...(n.owes ? { owes: n.owes } : {}) })),
        running: running.map((a) => ({ id: a.id, startedAt: a.startedAt, lastProgress: a.lastProgress })),
        unjudged: attempts.flatMap((a) => [...a.shares].filter(([, valid]) => valid === null).map(([nodeId]) => ({ attemptId: a.id, nodeId }))),
        staggerMs,
        now: clock,
      };
      const step = nextStep(v);
      if (step.kind === 'fail') return { ok: false, attempts: attempts.length };
      if (step.kind === 'verify') {
        for (const s of step.shares) {
          const a = attempts.find((x) => x.id === s.attemptId)!;
          const valid = nodes.find((n) => n.id === s.nodeId)!.b === 'honest';
          a.shares.set(s.nodeId, valid);
          if (!valid) exclude(s.nodeId);
        }
        continue;
      }
      if (step.kind === 'start') {
        const a = { id: `a${attempts.length + 1}`, startedAt: clock, lastProgress: clock, signers: step.signers, shares: new Map<string, boolean | null>(), done: false };
        attempts.push(a);
        for (const id of step.signers) {
          const n = nodes.find((x) => x.id === id)!;
          n.readySince = undefined;
          n.owes = a.id;
          if (n.b !== 'silent') answers.splice(Math.floor(random() * (answers.length + 1)), 0, { node: id, attempt: a.id });
        }
        continue;
      }
      // wait or idle: the next answer arrives (in a random order), or time passes.
      const next = answers.shift();
      if (!next) {
        if (step.kind === 'idle') return { ok: false, attempts: attempts.length, stuck: true };
        clock = step.until;
        continue;
      }
      const n = nodes.find((x) => x.id === next.node)!;
      if (n.excluded) continue;
      const a = attempts.find((x) => x.id === next.attempt)!;
      n.owes = undefined;
      n.readySince = clock; // its share carries the next commitment
      a.shares.set(n.id, null);
      a.lastProgress = clock;
      if (!a.done && a.shares.size === a.signers.length) {
        const bad = a.signers.filter((id) => nodes.find((x) => x.id === id)!.b !== 'honest');
        for (const id of a.signers) a.shares.set(id, !bad.includes(id));
        a.done = true;
        if (bad.length === 0) return { ok: true, attempts: attempts.length };
        bad.forEach(exclude);
      }
    }
    throw new Error('no outcome after 1000 steps');

    function exclude(id: string) {
      const n = nodes.find((x) => x.id === id)!;
      n.excluded = true;
      n.readySince = undefined;
      for (const a of attempts) if (!a.done && (n.owes === a.id || a.shares.get(id) === false)) a.done = true;
      n.owes = undefined;
    }
  }

  it.each([
    [5, 3],
    [7, 4],
    [15, 11],
  ])('%i signers, threshold %i: completes within n-t+1 attempts with n-t faulty signers, in any order', (n, t) => {
    for (let seed = 1; seed <= 60; seed++) {
      for (const staggerMs of [0, 3]) {
        const faulty = n - t;
        const behaviours: Behaviour[] = Array.from({ length: n }, (_, i) => (i < faulty ? (i % 2 === 0 ? 'invalid' : 'silent') : 'honest'));
        const outcome = simulate(behaviours, t, seed, staggerMs);
        expect(outcome, `seed ${seed}, stagger ${staggerMs}`).toMatchObject({ ok: true });
        expect(outcome.attempts, `seed ${seed}, stagger ${staggerMs}`).toBeLessThanOrEqual(n - t + 1);
      }
    }
  });

  it('fails (and says so) once more than n-t signers are faulty', () => {
    expect(simulate(['invalid', 'invalid', 'honest'], 2, 7, 0)).toMatchObject({ ok: false });
  });
});
