/**
 * #agent: the client an automated agent uses to work under a session-key grant (issue 10): its session
 * key, grant proposals, signed requests and their signatures. Pure TypeScript over fetch and the shared
 * schemas (#api, #protocol, #intent); no NestJS, no database.
 */
export * from './agent-client.js';
export * from './agent-error.js';
export * from './grant-request.js';
export * from './session-key.js';
