import { randomUUID } from 'node:crypto';
import { digestHex, intentHash } from '#intent';
import { INTENT_VERSION, type Intent, type Payload, type RequestProposeFrame, type SuiteId } from '#protocol';

/** A test intent: a UTF-8 text payload for `keyId`, deadline a minute after `now`; overridable. */
export const testIntent = (keyId: string, now: number, over: Partial<Intent> = {}): Intent => ({
  version: INTENT_VERSION,
  keyId,
  payload: { kind: 'text', text: 'pay 5 to bob' },
  chainId: null,
  sequence: null,
  deadline: now + 60_000,
  proposer: 'principal:test',
  description: 'payroll batch 7',
  note: '',
  ...over,
});

/** An EIP-712 ERC-20 style transfer, for summaries and policies that read typed fields. */
export const transferPayload = (amount: string, to = '0x00000000000000000000000000000000000000b0'): Payload => ({
  kind: 'eip712',
  typedData: {
    domain: { name: 'Test Token', version: '1', chainId: 1, verifyingContract: '0x00000000000000000000000000000000000000a1' },
    types: {
      Transfer: [
        { name: 'to', type: 'address' },
        { name: 'amount', type: 'uint256' },
      ],
    },
    primaryType: 'Transfer',
    message: { to, amount },
  },
});

/** A `request.propose` for `intent` with the intent's true hash (the coordinator's honest frame). */
export const proposeFrame = (
  intent: Intent,
  options: { suite: SuiteId; threshold: number; requestId?: string; intentHash?: string },
): RequestProposeFrame => ({
  v: 1,
  type: 'request.propose',
  requestId: options.requestId ?? randomUUID(),
  suite: options.suite,
  threshold: options.threshold,
  intent,
  intentHash: options.intentHash ?? intentHash(intent),
});

/** The message an honest package carries for `intent`: its digest, hex. */
export const intentDigest = (intent: Intent): string => digestHex(intent.payload);
