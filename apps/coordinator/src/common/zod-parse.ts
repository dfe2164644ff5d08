import type { z } from 'zod';
import { DomainError } from '#domain';

/** Parses a DTO with its zod schema; a failure is a VALIDATION_FAILED naming each bad field. */
export function parseDto<S extends z.ZodType>(schema: S, input: unknown): z.infer<S> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
    const summary = issues.map((i) => `${i.path || '(body)'}: ${i.message}`).join('; ');
    throw new DomainError('VALIDATION_FAILED', summary, { issues });
  }
  return parsed.data;
}
