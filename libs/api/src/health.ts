import { z } from 'zod';

/** One indicator's state in a Terminus body (`database`, ...); indicators may add fields. */
const IndicatorState = z.looseObject({ status: z.enum(['up', 'down']) });
const Indicators = z.record(z.string(), IndicatorState);

/**
 * `GET /health` (no token). 200 with this body (`status: "ok"`) when every dependency answers; 503 with
 * the ErrorResponse `DATABASE_UNAVAILABLE` whose `details` is this body (`status: "error"`) otherwise.
 */
export const HealthResponse = z.object({
  status: z.enum(['ok', 'error', 'shutting_down']),
  info: Indicators.optional(),
  error: Indicators.optional(),
  details: Indicators,
});
export type HealthResponse = z.infer<typeof HealthResponse>;
