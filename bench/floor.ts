/**
 * The floors of the replay figures, run as a plain Node.js script (no tsx: `node
 * bench/floor.js`-like through `--experimental-strip-types` is not on Node.js 20, so the
 * bench compiles nothing and passes this file's body as `-e`): the least any replay must do.
 * - `log <file>`: read the file, `JSON.parse` it whole, iterate its records;
 * - `trail <file list>`: the same per file, with gunzip, one file after the other.
 */
export const FLOOR_SCRIPT = `
const { readFileSync } = require('node:fs');
const { gunzipSync } = require('node:zlib');
const [mode, arg] = process.argv.slice(2);
let records = 0;
const count = (text) => { for (const r of JSON.parse(text).Records) if (r.eventSource) records++; };
if (mode === 'log') count(readFileSync(arg, 'utf8'));
else for (const file of readFileSync(arg, 'utf8').split('\\n').filter(Boolean)) count(gunzipSync(readFileSync(file)).toString('utf8'));
process.stdout.write(String(records));
`;
