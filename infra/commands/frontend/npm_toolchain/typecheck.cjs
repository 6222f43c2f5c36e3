// Every TypeScript error of a project, as `next build` would meet them, one JSON object per line.
// `next build` stops at the first type error and `tsc` skips semantic checks once a file has a syntax
// error; the compiler API asks for both kinds in every file. TypeScript is the project's own
// (resolved from the directory given), with the project's tsconfig.json.
'use strict';
const path = require('path');

const dir = path.resolve(process.argv[2] || '.');
let ts;
try {
  ts = require(require.resolve('typescript', { paths: [dir] }));
} catch {
  console.error(`typescript is not installed in ${dir}`);
  process.exit(3);
}
const configPath = ts.findConfigFile(dir, ts.sys.fileExists, 'tsconfig.json');
if (!configPath) {
  console.error(`no tsconfig.json in ${dir}`);
  process.exit(3);
}
const { config, error } = ts.readConfigFile(configPath, ts.sys.readFile);
const parsed = ts.parseJsonConfigFileContent(config || {}, ts.sys, path.dirname(configPath));
const program = ts.createProgram({
  rootNames: parsed.fileNames,
  options: { ...parsed.options, noEmit: true, incremental: false },
});
const diagnostics = [
  ...(error ? [error] : []),
  ...program.getConfigFileParsingDiagnostics(),
  ...program.getOptionsDiagnostics(),
  ...program.getSyntacticDiagnostics(),
  ...program.getGlobalDiagnostics(),
  ...program.getSemanticDiagnostics(),
];
const seen = new Set();
for (const d of diagnostics) {
  if (d.category !== ts.DiagnosticCategory.Error) continue;
  let file = null;
  let line = null;
  let column = null;
  if (d.file && d.start !== undefined) {
    const position = d.file.getLineAndCharacterOfPosition(d.start);
    file = path.relative(dir, d.file.fileName);
    line = position.line + 1;
    column = position.character + 1;
  }
  const key = `${file}:${line}:${column}:${d.code}`;
  if (seen.has(key)) continue;
  seen.add(key);
  const message = ts.flattenDiagnosticMessageText(d.messageText, '\n');
  process.stdout.write(JSON.stringify({ file, line, column, code: d.code, message }) + '\n');
}
