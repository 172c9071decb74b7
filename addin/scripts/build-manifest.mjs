// Fill the manifest template for one environment: where the pane is served, and the Entra app it signs in to.
//   node scripts/build-manifest.mjs --url https://switchboard.example.com/addin --client-id <GUID> [--app-id-uri URI] [--out FILE]
// Without arguments it writes the development manifest (https://localhost:3000) to the repository root.
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const here = dirname(fileURLToPath(import.meta.url));
const DEV_CLIENT_ID = "00000000-0000-0000-0000-000000000000"; // placeholder: SSO needs a real app registration

/** The template with every {{NAME}} replaced; fails on an unknown or missing placeholder. */
export function renderManifest(template, values) {
  const rendered = template.replace(/\{\{([A-Z_]+)\}\}/g, (_, name) => {
    if (!(name in values)) throw new Error(`no value for {{${name}}}`);
    return values[name];
  });
  return rendered;
}

/** The placeholder values for a pane URL and an Entra app (the App ID URI defaults to api://<host>/<client id>). */
export function manifestValues(url, clientId, appIdUri) {
  const parsed = new URL(url);
  if (parsed.protocol !== "https:") throw new Error("Office loads add-ins over https only");
  const addinUrl = parsed.href.replace(/\/+$/, "");
  return { ADDIN_URL: addinUrl, ORIGIN: parsed.origin, CLIENT_ID: clientId, APP_ID_URI: appIdUri || `api://${parsed.host}/${clientId}` };
}

function main() {
  const { values } = parseArgs({
    options: {
      url: { type: "string", default: "https://localhost:3000" },
      "client-id": { type: "string", default: DEV_CLIENT_ID },
      "app-id-uri": { type: "string" },
      out: { type: "string", default: resolve(here, "../../manifest.xml") },
    },
  });
  const template = readFileSync(resolve(here, "../manifest/manifest.template.xml"), "utf8");
  const manifest = renderManifest(template, manifestValues(values.url, values["client-id"], values["app-id-uri"]));
  writeFileSync(values.out, manifest);
  console.log(`wrote ${values.out} for ${values.url}`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
