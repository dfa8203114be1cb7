// Builds the dashboard into dist/: the app's minified JS entry and a chunk per screen (code
// splitting; Chart.js tree-shaken, in the chunks of the screens that draw charts), one CSS
// file, all with content hashes, index.html pointing at them (and preloading the first
// screen's chunks), and screens.json naming each screen's files. dist/ is what the local
// gateway serves and what CDK uploads; config.json is added beside it at run/deploy time.
//
//   node build.mjs            build once
//   node build.mjs --watch    rebuild on change (for `make run` in another terminal)

import { context } from "esbuild";
import { copyFile, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { basename, dirname, join, relative as relativePath } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const src = join(here, "src");
const out = join(here, "dist");
const watch = process.argv.includes("--watch");

// The screen index.html preloads: the first one after signing in (sign-in itself is in the entry).
const FIRST_SCREEN = "dashboard";

/** main.js's table of screens ({name: "views/<file>.js"}): each is a chunk of its own. */
async function screenModules() {
  const main = await readFile(join(src, "main.js"), "utf8");
  const found = [...main.matchAll(/^\s+([\w-]+): \(\) => import\("\.\/(views\/[\w-]+\.js)"\),$/gm)];
  if (!found.some(([, name]) => name === FIRST_SCREEN)) throw new Error(`main.js's screens have no ${FIRST_SCREEN}`);
  return Object.fromEntries(found.map(([, name, file]) => [name, file]));
}

/** The files `output` needs before it runs: itself and its static imports, transitively. */
function closure(outputs, output) {
  const seen = new Set();
  const visit = (path) => {
    if (seen.has(path)) return;
    seen.add(path);
    for (const use of outputs[path].imports) if (use.kind === "import-statement" && !use.external) visit(use.path);
  };
  visit(output);
  return [...seen];
}

async function writeHtml(result) {
  const outputs = result.metafile.outputs;
  // The entry points' files go in index.html (the entry's own chunks and the first screen's as
  // modulepreload links: fetched at once, in parallel, with no waterfall of imports); the other
  // screens' chunks are fetched by the app when a screen first opens.
  const byEntry = (source) => Object.keys(outputs).find((path) => outputs[path].entryPoint === source);
  const relative = (path) => relativePath(src, path);
  const entryOf = Object.fromEntries(
    Object.keys(outputs)
      .filter((path) => outputs[path].entryPoint)
      .map((path) => [relative(join(here, outputs[path].entryPoint)), path]),
  );
  const appJs = byEntry(relativePath(here, join(src, "main.js")));
  const appCss = byEntry(relativePath(here, join(src, "styles.css")));
  if (!appJs || !appCss) throw new Error(`expected the app's .js and .css entries, got ${Object.keys(outputs)}`);
  const name = (path) => `assets/${basename(path)}`;
  const entryFiles = closure(outputs, appJs);
  const screens = {};
  for (const [screen, file] of Object.entries(await screenModules())) {
    const chunk = entryOf[file];
    if (!chunk) throw new Error(`no chunk for ${file} (is it imported by main.js?)`);
    const own = closure(outputs, chunk);
    const files = new Set([...entryFiles, ...own]);
    // What the screen may import later still (the network tab's layout library).
    const later = [
      ...new Set(own.flatMap((f) => outputs[f].imports.filter((u) => u.kind === "dynamic-import").map((u) => u.path))),
    ].filter((path) => !files.has(path));
    screens[screen] = { js: [...files].map(name), later: later.map(name) };
  }
  const first = screens[FIRST_SCREEN].js;
  const preload = first
    .filter((file) => file !== name(appJs))
    .map((file) => `<link rel="modulepreload" href="${file}" />`)
    .join("\n    ");
  const template = await readFile(join(src, "index.html"), "utf8");
  const html = template
    .replaceAll("{{app.js}}", name(appJs))
    .replaceAll("{{app.css}}", name(appCss))
    .replaceAll("{{modulepreload}}", preload);
  await writeFile(join(out, "index.html"), html);
  await copyFile(join(src, "favicon.svg"), join(out, "favicon.svg"));
  // Which files each screen needs (the entry's, the screen's chunk and its imports), for the
  // size test and `make bench`; served like index.html (not cached), and nothing secret: the
  // same names are in the files themselves. firstLoad: sign-in and the dashboard.
  const manifest = { entry: entryFiles.map(name), firstScreen: FIRST_SCREEN, firstLoad: first, screens };
  await writeFile(join(out, "screens.json"), `${JSON.stringify(manifest, null, 2)}\n`);
}

const htmlPlugin = {
  name: "index-html",
  setup(build) {
    build.onStart(async () => {
      // Old hashed files would pile up in watch mode and be uploaded by CDK.
      await rm(join(out, "assets"), { recursive: true, force: true });
    });
    build.onEnd(async (result) => {
      if (result.errors.length === 0) await writeHtml(result);
    });
  },
};

await rm(out, { recursive: true, force: true });
await mkdir(out, { recursive: true });
const ctx = await context({
  entryPoints: { app: join(src, "main.js"), styles: join(src, "styles.css") },
  outdir: join(out, "assets"),
  entryNames: "[name]-[hash]",
  chunkNames: "[name]-[hash]",
  bundle: true,
  // Each `import()` (a screen in main.js, the topology's layout) becomes a chunk of its own and
  // code they share another, so the first page load does not carry them (esbuild splits only
  // with ESM).
  splitting: true,
  minify: true,
  format: "esm",
  target: ["es2022", "chrome110", "firefox115", "safari16"],
  sourcemap: false,
  legalComments: "linked",
  metafile: true,
  logLevel: "info",
  plugins: [htmlPlugin],
});
if (watch) {
  await ctx.watch();
} else {
  await ctx.rebuild();
  await ctx.dispose();
}
