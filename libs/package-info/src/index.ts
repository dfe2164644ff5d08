export * from './roundtable-package.js';
