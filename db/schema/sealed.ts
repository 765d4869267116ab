import { customType } from "drizzle-orm/pg-core";
import { open, seal, SEALED_PREFIX } from "../../lib/secret-box.ts";

/**
 * Columns that hold config values (secrets). With RAPTOR_SECRET_KEY set they are written sealed
 * (lib/secret-box.ts) and opened on read, so every query sees plain values and the stored row
 * holds none. The SQL types stay `text` and `jsonb` (a sealed jsonb is `{"$sealed": "enc:v1:…"}`),
 * so no migration is needed and rows written before the key was set still read.
 */
export const sealedText = customType<{ data: string; driverData: string }>({
  dataType: () => "text",
  toDriver: (value) => seal(value),
  fromDriver: (value) => open(value),
});

/** A jsonb column sealed whole. */
export function sealedJson<T>() {
  return customType<{ data: T; driverData: unknown }>({
    dataType: () => "jsonb",
    toDriver: (value) => {
      const text = JSON.stringify(value);
      const sealed = seal(text);
      return JSON.stringify(sealed === text ? value : { $sealed: sealed });
    },
    fromDriver: (raw) => {
      const v = typeof raw === "string" ? (JSON.parse(raw) as unknown) : raw;
      if (v !== null && typeof v === "object" && typeof (v as { $sealed?: unknown }).$sealed === "string") {
        const s = (v as { $sealed: string }).$sealed;
        if (s.startsWith(SEALED_PREFIX)) return JSON.parse(open(s)) as T;
      }
      return v as T;
    },
  });
}
