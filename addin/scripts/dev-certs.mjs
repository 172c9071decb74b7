// Make the development certificates once (offline): a local CA and a localhost certificate signed by it, in
// ~/.office-addin-dev-certs. Trusting the CA is a separate, manual step (docs/addin.md).
import { existsSync } from "node:fs";
import { generateCertificates } from "office-addin-dev-certs";
import { caCertificatePath, localhostCertificatePath, localhostKeyPath } from "office-addin-dev-certs/lib/defaults.js";

if (existsSync(localhostCertificatePath) && existsSync(localhostKeyPath)) {
  console.log(`certificates already in ${localhostCertificatePath}`);
} else {
  await generateCertificates(caCertificatePath, localhostCertificatePath, localhostKeyPath);
  console.log(`made ${localhostCertificatePath}; trust ${caCertificatePath} to sideload without warnings`);
}
