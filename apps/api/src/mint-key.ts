import { mintApiKey } from "./security/api-keys.js";

// Mints an API key: `pnpm --filter @otpin/api mint-key <name>`. Prints the key once for the calling
// application and the API_KEYS entry (name and SHA-256) for the otpin deployment; neither is stored.
const name = process.argv[2] ?? "default";
try {
  const minted = mintApiKey(name);
  process.stdout.write(
    `API key for the calling application (shown once, keep it secret):\n  ${minted.key}\n` +
      `Entry for API_KEYS on otpin (comma-separate several):\n  ${minted.entry}\n`,
  );
} catch (error) {
  process.stderr.write(`mint-key: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
