import { restrictUmask } from '#store-lock';
import { buildProgram } from './program.js';

// Before anything is written: every file and directory the signer creates is its owner's only.
restrictUmask();
await buildProgram().parseAsync(process.argv);
