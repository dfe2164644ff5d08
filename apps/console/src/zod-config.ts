import { z } from 'zod';

// The CSP allows no eval: zod must not even probe `new Function` (a strict CSP reports the probe as a
// violation). Imported first by main.tsx, so this runs before any module parses anything.
z.config({ jitless: true });
