// The test-database helper lives with the persistence lib (its specs use it too, and nothing under
// libs/ or apps/ may import from test/, which the Docker build does not copy).
export * from '../../libs/persistence/src/testing/test-database.js';
