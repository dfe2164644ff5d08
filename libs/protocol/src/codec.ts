import type { z } from 'zod';
import type { ErrorCode } from './error-codes.js';
import { CoordinatorFrame, NodeFrame, PROTOCOL_VERSION, type Outgoing } from './frames.js';
import { MAX_FRAME_BYTES } from './limits.js';

/** Why an inbound frame could not be decoded; carries the stable code for the error frame. */
export class FrameError extends Error {
  constructor(
    readonly code: Extract<ErrorCode, 'MALFORMED_FRAME' | 'UNSUPPORTED_VERSION'>,
    message: string,
    /** The frame's `type`, when one could be read. */
    readonly frameType?: string,
    readonly requestId?: string,
    readonly attemptId?: string,
  ) {
    super(message);
    this.name = 'FrameError';
  }
}

type Decoded<S extends z.ZodType> = { ok: true; frame: z.infer<S> } | { ok: false; error: FrameError };

function peek(value: unknown, field: string): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = (value as Record<string, unknown>)[field];
  return typeof v === 'string' && v.length <= 64 ? v : undefined;
}

function decodeWith<S extends z.ZodType>(schema: S, data: string | Buffer | ArrayBuffer | Buffer[]): Decoded<S> {
  const text = Array.isArray(data)
    ? Buffer.concat(data).toString('utf8')
    : data instanceof ArrayBuffer
      ? Buffer.from(data).toString('utf8')
      : typeof data === 'string'
        ? data
        : data.toString('utf8');
  if (Buffer.byteLength(text, 'utf8') > MAX_FRAME_BYTES) {
    return { ok: false, error: new FrameError('MALFORMED_FRAME', `frame exceeds ${MAX_FRAME_BYTES} bytes`) };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, error: new FrameError('MALFORMED_FRAME', 'frame is not valid JSON') };
  }
  const type = peek(json, 'type');
  const requestId = peek(json, 'requestId');
  const attemptId = peek(json, 'attemptId');
  const v = typeof json === 'object' && json !== null ? (json as Record<string, unknown>).v : undefined;
  if (v !== PROTOCOL_VERSION) {
    return {
      ok: false,
      error: new FrameError('UNSUPPORTED_VERSION', `protocol version must be ${PROTOCOL_VERSION}`, type),
    };
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue && issue.path.length > 0 ? issue.path.join('.') : 'frame';
    const message = `${where}: ${issue?.message ?? 'invalid'}`.slice(0, 900);
    return { ok: false, error: new FrameError('MALFORMED_FRAME', message, type, requestId, attemptId) };
  }
  return { ok: true, frame: parsed.data };
}

/** Parses a frame a node sent. Never throws. */
export const decodeNodeFrame = (data: string | Buffer | ArrayBuffer | Buffer[]) => decodeWith(NodeFrame, data);
/** Parses a frame the coordinator sent. Never throws. */
export const decodeCoordinatorFrame = (data: string | Buffer | ArrayBuffer | Buffer[]) =>
  decodeWith(CoordinatorFrame, data);

/** Serializes a frame, adding the protocol version. */
export function encodeFrame(frame: Outgoing<CoordinatorFrame> | Outgoing<NodeFrame>): string {
  return JSON.stringify({ v: PROTOCOL_VERSION, ...frame });
}
