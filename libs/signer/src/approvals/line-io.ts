import type { Socket } from 'node:net';

/** Reads one newline-terminated line (UTF-8) from `socket`; rejects past `maxBytes` or when the socket ends first. */
export function readLine(socket: Socket, maxBytes: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (error?: Error, line?: string) => {
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('error', onError);
      if (error) reject(error);
      else resolve(line!);
    };
    const onData = (chunk: Buffer) => {
      const newline = chunk.indexOf(0x0a);
      const part = newline === -1 ? chunk : chunk.subarray(0, newline);
      size += part.length;
      if (size > maxBytes) return done(new Error(`the line is longer than ${maxBytes} bytes`));
      chunks.push(part);
      if (newline !== -1) done(undefined, Buffer.concat(chunks).toString('utf8'));
    };
    const onEnd = () => done(new Error('the connection ended before a whole line'));
    const onError = (e: Error) => done(e);
    socket.on('data', onData);
    socket.on('end', onEnd);
    socket.on('error', onError);
  });
}
