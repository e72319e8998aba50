/** Test helper (not a test): paths of the project. */
import { fileURLToPath, pathToFileURL } from "node:url";

/** The project's root folder. */
export const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** `file://` URL of an absolute path. */
export function toFileUrl(path: string): string {
  return pathToFileURL(path).href;
}
