// The AAA database (users, lockout state, session records) in one SQLite file, opened in WAL mode,
// with a versioned migrations table so later issues add columns without losing data.
import Database from 'better-sqlite3'
import { VpnError } from '../lib/errors.js'

export type AaaDb = Database.Database

/** Each entry runs once, in order, inside a transaction; never edit a shipped entry, append one. */
const MIGRATIONS: readonly { readonly version: number; readonly sql: string }[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE users (
        name          TEXT PRIMARY KEY COLLATE NOCASE,
        created       INTEGER NOT NULL,           -- ms since the epoch
        pw_hash       TEXT NOT NULL,              -- scrypt, see password-hash.ts
        nt_hash       BLOB NOT NULL,              -- MD4(UTF-16LE(password)), 16 bytes, for MS-CHAPv2
        secret        BLOB,                       -- AES-256-GCM sealed password, only when reversible
        disabled      INTEGER NOT NULL DEFAULT 0,
        failures      INTEGER NOT NULL DEFAULT 0, -- failed logins in the current window
        window_start  INTEGER,                    -- ms of the first failure in the window
        locked_until  INTEGER,                    -- ms; locked while now < locked_until
        last_login    INTEGER
      ) STRICT;
      CREATE TABLE records (
        seq               INTEGER PRIMARY KEY AUTOINCREMENT,
        id                TEXT NOT NULL UNIQUE,
        kind              TEXT NOT NULL CHECK (kind IN ('session', 'failed-auth')),
        user              TEXT NOT NULL,
        protocol          TEXT NOT NULL,
        peer              TEXT NOT NULL,
        start             INTEGER NOT NULL,
        end               INTEGER,
        assigned_address  TEXT,
        bytes_in          INTEGER NOT NULL DEFAULT 0,
        bytes_out         INTEGER NOT NULL DEFAULT 0,
        packets_in        INTEGER NOT NULL DEFAULT 0,
        packets_out       INTEGER NOT NULL DEFAULT 0,
        reason            TEXT
      ) STRICT;
      CREATE INDEX records_user ON records (user, seq);
      CREATE INDEX records_open ON records (end) WHERE end IS NULL;
    `,
  },
  {
    // Issue 3 §4: router accounts. The prefixes routed over a user's link (RFC 2865 §5.22
    // Framed-Route); network/length are kept as integers so overlap checks need no parsing.
    version: 2,
    sql: `
      CREATE TABLE user_routes (
        user     TEXT NOT NULL COLLATE NOCASE REFERENCES users (name) ON DELETE CASCADE ON UPDATE CASCADE,
        prefix   TEXT NOT NULL,                  -- canonical "a.b.c.d/n", host bits zero
        network  INTEGER NOT NULL,               -- u32
        length   INTEGER NOT NULL CHECK (length BETWEEN 1 AND 32),
        PRIMARY KEY (user, prefix)
      ) STRICT;
      CREATE UNIQUE INDEX user_routes_prefix ON user_routes (network, length);
    `,
  },
]

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version

/**
 * Applies pending migrations up to `target` (default: all; tests stop early to build a database as
 * an older Gatehouse wrote it). Throws ERR_DB_VERSION if the file was written by a newer Gatehouse.
 */
export function migrate(db: AaaDb, target = SCHEMA_VERSION): void {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied INTEGER NOT NULL) STRICT')
  const row = db.prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as { v: number | null }
  const current = row.v ?? 0
  if (current > SCHEMA_VERSION) {
    throw new VpnError('ERR_DB_VERSION', `database schema version ${current} is newer than this Gatehouse supports (${SCHEMA_VERSION})`)
  }
  const record = db.prepare('INSERT INTO schema_migrations (version, applied) VALUES (?, ?)')
  for (const m of MIGRATIONS) {
    if (m.version <= current || m.version > target) continue
    db.transaction(() => {
      db.exec(m.sql)
      record.run(m.version, new Date().getTime())
    })()
  }
}

/**
 * Opens (creating if needed) and migrates the AAA database. WAL + synchronous=NORMAL: a committed
 * record survives a process crash (an OS crash may lose the last transactions, never corrupt).
 * Throws VpnError ERR_DB with the path if the file cannot be opened.
 */
export function openAaaDb(path: string): AaaDb {
  let db: AaaDb
  try {
    db = new Database(path)
  } catch (e) {
    throw new VpnError('ERR_DB', `cannot open database ${path}: ${(e as Error).message}`, { cause: e })
  }
  try {
    db.pragma('journal_mode = WAL')
    db.pragma('synchronous = NORMAL')
    db.pragma('foreign_keys = ON')
    // The CLI and the gateway may both hold the file; wait for the other's write instead of failing.
    db.pragma('busy_timeout = 5000')
    migrate(db)
  } catch (e) {
    db.close()
    if (e instanceof VpnError) throw e
    throw new VpnError('ERR_DB', `cannot prepare database ${path}: ${(e as Error).message}`, { cause: e })
  }
  return db
}
