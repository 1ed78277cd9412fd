// The library in a browser: the `browser` entry of package.json loads as plain ES modules with no
// Node-only import reached (checked statically on dist/ and by loading it in Chromium), and a
// fixed-seed scenario gives the same results in Chromium as in Node, on WebGPU (navigator.gpu /
// Dawn) and on the wasm backend (threads in both): masks bit for bit, floats within 1e-6
// relative; the test reports which are bit-identical.

import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';
import { type ParityOutput, type ParityResult, runParityScenario } from './parity-scenario.js';
import { gpu } from './devices.js';
import { assertClose } from './helpers.js';
import { openPage, pageWebGpu, skipOrFail } from './browser.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DIST = join(ROOT, 'dist');
const packageJson = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  main: string;
  browser?: string;
  exports: { '.': { browser?: string; default: string } };
};

/** The imports a browser must never follow: Dawn and the wasm backend's Node parts, loaded only when in Node. */
const NODE_ONLY_DYNAMIC_IMPORTS = new Set(['src/init.js -> ./backend/webgpu/node-gpu.js', 'src/backend/wasm/backend.js -> ./node.js']);
/** Floats: equal within this relative difference (they are bit-identical where the GPUs agree). */
const RELATIVE_TOLERANCE = 1e-6;

interface ImportEdge {
  specifier: string;
  dynamic: boolean;
}

/** Every import of a compiled module: static (import/export ... from) and dynamic (import()). */
function moduleImports(file: string): ImportEdge[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, false, ts.ScriptKind.JS);
  const edges: ImportEdge[] = [];
  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      edges.push({ specifier: node.moduleSpecifier.text, dynamic: false });
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const [argument] = node.arguments;
      edges.push({ specifier: argument && ts.isStringLiteral(argument) ? argument.text : '<computed specifier>', dynamic: true });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return edges;
}

/**
 * The modules a browser loads from `entry` (relative to dist/), following static and dynamic
 * imports except the Node-only one, and every import that a browser could not load.
 */
function browserImportGraph(entry: string): { modules: Set<string>; problems: string[]; nodeOnly: Set<string> } {
  const modules = new Set<string>();
  const problems: string[] = [];
  const nodeOnly = new Set<string>();
  const queue = [join(DIST, entry)];
  while (queue.length > 0) {
    const file = queue.pop() as string;
    const name = relative(DIST, file).split(sep).join('/');
    if (modules.has(name)) continue;
    modules.add(name);
    for (const { specifier, dynamic } of moduleImports(file)) {
      const edge = `${name} -> ${specifier}`;
      if (dynamic && NODE_ONLY_DYNAMIC_IMPORTS.has(edge)) {
        nodeOnly.add(edge);
        continue;
      }
      if (!specifier.startsWith('./') && !specifier.startsWith('../')) {
        problems.push(`${edge}: ${specifier.startsWith('node:') ? 'a Node built-in' : 'a bare specifier'} (a browser cannot load it)`);
        continue;
      }
      const target = resolve(dirname(file), specifier);
      if (!target.startsWith(DIST + sep)) problems.push(`${edge}: outside dist/`);
      else if (!existsSync(target)) problems.push(`${edge}: no such file`);
      else queue.push(target);
    }
  }
  return { modules, problems, nodeOnly };
}

const browserEntry = (packageJson.browser ?? '').replace(/^\.\/dist\//, '');

test('browser entry: package.json names an ES module in dist/ whose imports a browser can load (no node: or bare specifier; Dawn only behind the Node check)', () => {
  assert.ok(packageJson.browser?.startsWith('./dist/'), `package.json "browser" must name a module in dist/, got ${packageJson.browser}`);
  assert.equal(packageJson.exports['.'].browser, packageJson.browser, 'exports["."].browser and "browser" must name the same module');
  // The library entry, the web page and the parity scenario the browser test loads.
  for (const entry of [browserEntry, 'web/app.js', 'test/parity-scenario.js']) {
    const { modules, problems, nodeOnly } = browserImportGraph(entry);
    assert.deepEqual(problems, [], `${entry} reaches imports a browser cannot load`);
    assert.ok(!modules.has('src/backend/webgpu/node-gpu.js'), `${entry} reaches node-gpu.js statically`);
    assert.ok(modules.has('src/backend/webgpu/shaders.generated.js'), `${entry} must load the embedded WGSL (shaders.generated.js)`);
    assert.deepEqual([...nodeOnly], [...NODE_ONLY_DYNAMIC_IMPORTS], `${entry}: the Node-only dynamic import list is out of date`);
  }
});

/** Per group of outputs: how many are bit-identical, and the largest relative difference. */
interface GroupFinding {
  outputs: number;
  identicalOutputs: number;
  values: number;
  differingValues: number;
  maxRelative: number;
}

/** The findings per group, and every output that breaks the rules (masks exact, floats within the tolerance). */
function compare(inNode: ParityOutput[], inPage: ParityOutput[]): { findings: Map<string, GroupFinding>; failures: string[] } {
  assert.deepEqual(
    inPage.map((o) => `${o.group}: ${o.name}`),
    inNode.map((o) => `${o.group}: ${o.name}`),
    'the page and Node ran different scenarios',
  );
  const findings = new Map<string, GroupFinding>();
  const failures: string[] = [];
  inNode.forEach((node, i) => {
    const page = inPage[i];
    const what = `${node.group}: ${node.name}`;
    try {
      assert.equal(page.values.length, node.values.length, `${what}: ${page.values.length} values in the page, ${node.values.length} in Node`);
      if (node.kind === 'mask') assert.deepEqual(page.values, node.values, `${what}: the masks differ`);
      else assertClose(page.values, node.values, `${what} (page vs Node)`, { rtol: RELATIVE_TOLERANCE, atol: RELATIVE_TOLERANCE });
    } catch (error) {
      failures.push((error as Error).message.split('\n')[0]);
    }
    const finding = findings.get(node.group) ?? { outputs: 0, identicalOutputs: 0, values: 0, differingValues: 0, maxRelative: 0 };
    let differing = 0;
    node.values.forEach((expected, j) => {
      if (Object.is(page.values[j], expected)) return;
      differing++;
      finding.maxRelative = Math.max(finding.maxRelative, Math.abs(page.values[j] - expected) / Math.max(Math.abs(page.values[j]), Math.abs(expected)));
    });
    finding.outputs++;
    if (differing === 0) finding.identicalOutputs++;
    finding.values += node.values.length;
    finding.differingValues += differing;
    findings.set(node.group, finding);
  });
  return { findings, failures };
}

for (const backend of ['webgpu', 'wasm'] as const) {
  const where = backend === 'webgpu' ? 'Chromium (navigator.gpu) as in Node (Dawn)' : 'Chromium (cross-origin isolated, threads) as in Node';
  test(`browser parity: a fixed-seed scenario gives the same results in ${where} [${backend}]`, { timeout: 120_000 }, async (t) => {
    if (backend === 'webgpu' && !gpu.available) {
      if (gpu.required) throw new Error(`WebGPU is required in Node (CI=true or REQUIRE_GPU=1): ${gpu.detail}`);
      return skipOrFail(t, `no WebGPU in Node to compare with: ${gpu.detail.split('.')[0]}`);
    }
    const opened = await openPage('/test/parity.html');
    if (typeof opened === 'string') return skipOrFail(t, opened);
    try {
      const { page } = opened;
      if (backend === 'webgpu') {
        const missing = await pageWebGpu(page);
        if (missing) return skipOrFail(t, `Chromium: ${missing}`);
      }
      await page.waitForFunction(() => document.body.dataset.ready === 'true');
      const inPage = await page.evaluate((b) => (window as unknown as { runParityScenario(b: string): Promise<ParityResult> }).runParityScenario(b), backend);
      // The browser entry exports what the Node entry exports.
      const pageExports = await page.evaluate(async (url) => Object.keys((await import(url)) as object).sort(), `/dist/${browserEntry}`);
      const nodeExports = Object.keys((await import(pathToFileURL(join(ROOT, packageJson.exports['.'].default)).href)) as object).sort();
      const inNode = await runParityScenario(backend);
      t.diagnostic(`Node: ${inNode.adapter}; Chromium: ${inPage.adapter}`);
      if (backend === 'wasm') assert.match(inPage.adapter, /, [2-9]\d* threads$/, 'the page is cross-origin isolated: the wasm backend runs threads');
      const { findings, failures } = compare(inNode.outputs, inPage.outputs);
      for (const [group, f] of findings) {
        const verdict =
          f.differingValues === 0
            ? 'bit-identical'
            : `${f.identicalOutputs} of ${f.outputs} outputs bit-identical, ${f.differingValues} values differ (max relative ${f.maxRelative.toExponential(2)})`;
        t.diagnostic(`${group}: ${verdict} (${f.outputs} outputs, ${f.values} values)`);
      }
      assert.deepEqual(failures, [], `masks must be equal and floats within ${RELATIVE_TOLERANCE} relative`);
      assert.deepEqual(pageExports, nodeExports, 'the browser entry must export the API of the Node entry');
      assert.deepEqual(opened.errors, [], 'the page logged errors');
    } finally {
      await opened.close();
    }
  });
}
