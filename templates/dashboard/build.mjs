// Builds the dashboard into dist/: one minified JS bundle (Chart.js tree-shaken in), one CSS
// file, both with content hashes, and index.html pointing at them. dist/ is what the local
// gateway serves and what CDK uploads; config.json is added beside it at run/deploy time.
//
//   node build.mjs            build once
//   node build.mjs --watch    rebuild on change (for `make run` in another terminal)

import { context } from "esbuild";
import { copyFile, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const src = join(here, "src");
const out = join(here, "dist");
const watch = process.argv.includes("--watch");

async function writeHtml(result) {
  // The entry points' files go in index.html; the chunks that code splitting makes (the network
  // screen's layout library, loaded by a dynamic import) are fetched by the app itself.
  const entries = Object.entries(result.metafile.outputs)
    .filter(([, output]) => output.entryPoint)
    .map(([path]) => basename(path));
  const js = entries.find((name) => name.endsWith(".js"));
  const css = entries.find((name) => name.endsWith(".css"));
  if (!js || !css) throw new Error(`expected one .js and one .css entry, got ${entries}`);
  const template = await readFile(join(src, "index.html"), "utf8");
  const html = template.replaceAll("{{app.js}}", `assets/${js}`).replaceAll("{{app.css}}", `assets/${css}`);
  await writeFile(join(out, "index.html"), html);
  await copyFile(join(src, "favicon.svg"), join(out, "favicon.svg"));
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
  // `import()` of a module that only one screen needs (the topology's layout) becomes a chunk
  // of its own, so the first page load does not carry it (esbuild splits only with ESM).
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
