/**
 * The floors of the replay figures: the least any replay must do, as a plain JavaScript file the
 * bench writes and runs with `node` (no tsx, no start-up of ours).
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
