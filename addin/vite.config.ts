// Build the task pane, the sign-in dialog and the ribbon's function file into dist/ (served by the backend at
// /addin/); `npm run dev` serves them over https on localhost:3000 with the office-addin-dev-certs certificates.
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { resolve } from "node:path";
import { defineConfig } from "vitest/config";

/** The dev certificates made by `npm run certs`, if they exist. */
function devHttps(): { cert: Buffer; key: Buffer } | undefined {
  const folder = resolve(homedir(), ".office-addin-dev-certs");
  const cert = resolve(folder, "localhost.crt");
  const key = resolve(folder, "localhost.key");
  return existsSync(cert) && existsSync(key) ? { cert: readFileSync(cert), key: readFileSync(key) } : undefined;
}

export default defineConfig(({ command }) => ({
  base: "./",
  oxc: { jsx: { runtime: "automatic" } },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    sourcemap: true,
    chunkSizeWarningLimit: 800, // Fluent UI alone is most of the pane's 550 kB
    rollupOptions: {
      // Fluent's "use client" directives mean nothing outside React Server Components: not worth a warning each.
      onwarn(warning, warn) {
        if (warning.code !== "MODULE_LEVEL_DIRECTIVE") warn(warning);
      },
      input: {
        taskpane: resolve(import.meta.dirname, "taskpane.html"),
        dialog: resolve(import.meta.dirname, "dialog.html"),
        commands: resolve(import.meta.dirname, "commands.html"),
        admin: resolve(import.meta.dirname, "admin.html"), // the tenant admin console (src/admin)
      },
    },
  },
  // The development manifest points at https://localhost:3000: the port is part of the manifest, hence fixed.
  // /api goes to the backend (SWITCHBOARD_BACKEND, default http://127.0.0.1:8000), so the pane and the API share an
  // origin in development as in production: no CORS, and the dev-token endpoint sees a loopback caller.
  server:
    command === "serve"
      ? {
          host: "localhost",
          port: 3000,
          strictPort: true,
          https: devHttps(),
          proxy: { "/api": { target: process.env.SWITCHBOARD_BACKEND ?? "http://127.0.0.1:8000", xfwd: false } },
        }
      : undefined,
  test: { environment: "jsdom", include: ["tests/**/*.test.ts", "tests/**/*.test.tsx"] },
}));
