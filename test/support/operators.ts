/** The operator list the tests validate against: the sandbox's default one. */
export { DEFAULT_OPERATORS as OPERATORS } from '../../src/sandbox/index.js';
