/** Which settings go to the server, in what shape: pure logic (unit tested). */
import { SERVER_SETTING_KEYS } from "./serverSettings";

/** Read one setting; `undefined` when it has no value at all. */
export type SettingReader = (key: string) => unknown;

/** The server's options as a flat object, skipping unset ones and the client's own settings. */
export function serverSettings(read: SettingReader, keys: readonly string[] = SERVER_SETTING_KEYS): Record<string, unknown> {
  const settings: Record<string, unknown> = {};
  for (const key of keys) {
    const value = read(key);
    if (value !== undefined) {
      settings[key] = value;
    }
  }
  return settings;
}

/** Keep only server option keys of a configuration section object (for workspace/configuration). */
export function onlyServerKeys(section: unknown, keys: readonly string[] = SERVER_SETTING_KEYS): unknown {
  if (section === null || typeof section !== "object" || Array.isArray(section)) {
    return section;
  }
  const wanted = new Set(keys);
  return Object.fromEntries(Object.entries(section as Record<string, unknown>).filter(([key]) => wanted.has(key)));
}

/** Client settings whose change needs a server restart (the command that starts it). */
export const RESTART_SETTINGS: readonly string[] = ["serverPath", "pythonPath"];
