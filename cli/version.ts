/** Rampart's version (package.json): one reading for the CLI, the stack's `Version` output and `rampart doctor`. */
export { rampartVersion } from '../core/version';
