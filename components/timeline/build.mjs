// Copies the run-time files of the wavesurfer.js npm package (UMD builds: the player, its
// regions and timeline plugins) and its licence into frontend/vendor/. No bundler needed:
// frontend/index.html loads them with <script> tags. Run: npm install && npm run build
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";

const src = "node_modules/wavesurfer.js";
const out = "frontend/vendor";
mkdirSync(out, { recursive: true });
for (const [from, to] of [
  ["dist/wavesurfer.min.js", "wavesurfer.min.js"],
  ["dist/plugins/regions.min.js", "regions.min.js"],
  ["dist/plugins/timeline.min.js", "timeline.min.js"],
  ["LICENSE", "LICENSE-wavesurfer.txt"],
]) copyFileSync(`${src}/${from}`, `${out}/${to}`);
const pkg = JSON.parse(readFileSync(`${src}/package.json`, "utf8"));
writeFileSync(`${out}/VERSION.txt`, `wavesurfer.js ${pkg.version} (${pkg.license}), from npm\n`);
console.log(`copied wavesurfer.js ${pkg.version} into ${out}`);
